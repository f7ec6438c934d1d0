"""The console's whitelist handlers (employees, duty officers), written once for every kind
(hub.services.whitelist) and registered under each kind's paths by `add_routes`: add, the edit form and
the edit (blank fields stay as they are), delete (asked first), the import and its template.

No rule lives here: the services decide and refuse; `hub.console.web.shows_refusals` shows a refusal (a
refused import's row report too) on the kind's own page. The forms' fields are the kind's create model,
labelled `field.<name>` (`whitelist_entry.html`, `_whitelist_fields.html`); entries are shown masked,
whoever reads (`Whitelist.shown`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from hub.console.web import PREFIX, Form, Page, UserPage, confirm_first, field_text, shows_refusals
from hub.responses import file_response
from hub.services import downloads
from hub.services import errors as domain
from hub.services.whitelist import Whitelist

M = TypeVar("M", bound=BaseModel)

MAX_UPLOAD = 5 * 1024 * 1024  # a whitelist sheet of thousands of rows is far below this
MAX_FIELD = 64  # longer than any entry field's limit: the model refuses what is too long


async def uploaded(form: FormData) -> bytes:
    """The uploaded sheet; a form sent without one is refused (shown by `shows_refusals`)."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise domain.Invalid("no file uploaded", field="file")
    return await upload.read(MAX_UPLOAD + 1)


def typed(form: FormData, fields: Sequence[str]) -> dict[str, str]:
    """The fields as typed into a form (blank: "")."""
    return {key: field_text(form, key, MAX_FIELD) for key in fields}


def typed_patch(form: FormData, model: type[M], fields: Sequence[str]) -> M:
    """The fields typed into an edit form (blank ones stay as they are), validated by the update `model`;
    ValidationError names the bad ones."""
    return model.model_validate({k: v for k, v in typed(form, fields).items() if v})


@dataclass(frozen=True)
class Where:
    """Where a kind lives in the console: `{base}/{plural}` holds its entries (`{org_id}` in `base` is
    the organisation, with the path converter the kind's other pages use); `home` is the page that lists
    them, `home_page` renders it (and shows a refused add or import)."""

    base: str  # "/enterprises/{org_id}"
    entry: str  # an entry's id in a path: "{entry_id}" ("{entry_id:int}" where the kind's pages say so)
    home: str  # "/enterprises/{org_id}"
    home_page: Callable[[Page, int], Response]


def add_routes(router: APIRouter, kind: Whitelist[Any, Any], where: Where) -> None:
    entries = f"{where.base}/{kind.plural}"
    one = f"{entries}/{where.entry}"

    def home(org_id: int) -> str:
        return PREFIX + where.home.replace("{org_id}", str(org_id))

    def home_page(page: Page, org_id: int) -> Response:
        return where.home_page(page, org_id)

    def edit_page(page: Page, org_id: int, entry_id: int) -> Response:
        """The edit form; after a refusal, with what was typed and what is wrong."""
        entry = kind.get(page.db, page.scope, org_id=org_id, entry_id=entry_id)
        return page.render(
            "whitelist_entry.html", back=home(org_id), fields=kind.fields, shown=kind.shown(entry)
        )

    @shows_refusals(home_page)
    def add(org_id: int, form: Form, page: UserPage) -> Response:
        body = kind.new.model_validate(typed(form, kind.fields))
        kind.add(page.db, page.scope, org_id=org_id, data=body)
        return page.redirect(home(org_id), done=f"{kind.thing}_added")

    def edit_form(org_id: int, entry_id: int, page: UserPage) -> Response:
        return edit_page(page, org_id, entry_id)

    @shows_refusals(edit_page)
    def edit(org_id: int, entry_id: int, form: Form, page: UserPage) -> Response:
        changes = typed_patch(form, kind.patch, kind.fields)
        kind.update(page.db, page.scope, org_id=org_id, entry_id=entry_id, changes=changes)
        return page.redirect(home(org_id), done="saved")

    def delete(org_id: int, entry_id: int, form: Form, page: UserPage) -> Response:
        """Off the whitelist (what goes with the entry is the kind's: an employee's valid passes)."""
        entry = kind.get(page.db, page.scope, org_id=org_id, entry_id=entry_id)
        question = page.t(f"confirm.delete_{kind.thing}", **kind.shown(entry))
        asked = confirm_first(page, form, question=question, back=home(org_id))
        if asked is not None:
            return asked
        kind.delete(page.db, page.scope, org_id=org_id, entry_id=entry_id)
        return page.redirect(home(org_id), done=f"{kind.thing}_deleted")

    @shows_refusals(home_page)
    async def import_rows(org_id: int, form: Form, page: UserPage) -> Response:
        data = await uploaded(form)
        created = kind.import_rows(page.db, page.scope, org_id=org_id, data=data)
        return page.redirect(home(org_id), done=f"{kind.plural}_imported", n=len(created))

    def template(org_id: int, page: UserPage) -> Response:
        return file_response(downloads.whitelist_template(page.db, page.scope, kind, org_id=org_id))

    html: dict[str, Any] = {"response_class": HTMLResponse}
    router.post(entries, name=f"add_{kind.thing}", **html)(add)
    router.get(one, name=f"{kind.thing}_edit_form", **html)(edit_form)
    router.post(one, name=f"{kind.thing}_edit", **html)(edit)
    router.post(one + "/delete", name=f"{kind.thing}_delete", **html)(delete)
    router.post(f"{entries}-import", name=f"{kind.plural}_import", **html)(import_rows)
    router.get(f"{entries}-template.xlsx", name=f"{kind.plural}_template")(template)
