"""The LIFF whitelist pages' endpoints: an enterprise admin's employee whitelist (通行碼名單管理) and a
station admin's duty roster (執勤名單), one set of handlers for every whitelist (hub.services.whitelist)
registered per kind by `add_routes`: list (masked), add, modify, delete, import (all rows or none, with
the row-by-row report); and, for employees, passes for everyone without a valid one.

The organisation is always the caller's own account's (`call.org_id`); an id in the request names a row
*within* it and is checked by the services, which also decide who may touch what. A request body is the
kind's create or update model with the ID token (`TokenIn`). The import templates are the REST API's.

(No `from __future__ import annotations` here: the handlers' annotations are the kind's models, made per
kind inside `add_routes`, and FastAPI reads them from the functions.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile

from hub.core.vocabulary import Role
from hub.documents.exports import XLSX_MEDIA_TYPE
from hub.documents.spreadsheets import import_template
from hub.i18n import catalogue
from hub.line.liff_caller import LiffCall, LiffRefusal, TokenIn, liff
from hub.services import passes
from hub.services.employees import EMPLOYEES
from hub.services.errors import NotFound, TooLarge
from hub.services.rosters import OFFICERS
from hub.services.whitelist import Whitelist

router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)
templates_router = APIRouter(prefix="/liff/templates", tags=["line"], include_in_schema=False)

IdToken = Annotated[str, Form(min_length=10, max_length=4096)]
Sheet = Annotated[UploadFile, File()]

# What a row says beyond the kind's fields, made once per list (`LiffCall` -> entry -> more keys).
RowExtra = Callable[[LiffCall], Callable[[Any], dict[str, Any]]]


@dataclass(frozen=True)
class LiffWhitelist:
    """A whitelist as its LIFF page serves it: the kind, the role whose page it is (the caller's account
    is the organisation), the page's name (`/liff/templates/{page}.xlsx`, `cfg.page`) and what a row
    adds to the kind's shown fields."""

    kind: Whitelist[Any, Any]
    role: Role
    page: str
    channel: str
    extra: RowExtra | None = None

    @property
    def api(self) -> str:
        return f"/liff/api/{self.kind.plural}"

    def rows(self, call: LiffCall) -> dict[str, Any]:
        """The whitelist as the page shows it: every field masked or as stored (`Whitelist.shown`)."""
        entries = self.kind.entries(call.db, call.scope, org_id=call.org_id, masked=True)
        more = self.extra(call) if self.extra is not None else (lambda _e: {})
        return {self.kind.plural: [dict({"id": e.id}, **self.kind.shown(e), **more(e)) for e in entries]}

    def page_context(self, language: str) -> dict[str, Any]:
        """What the page's template and script need: the fields (inputs and row text, in order), each
        one's label in the page's language (`field.<name>`), and the import sheet's column headers, which
        are the sheet's own words whatever the page's language."""
        labels = {f: catalogue.text(language, f"field.{f}") for f in self.kind.fields}
        columns = [spec.label for spec in self.kind.columns]
        return {
            "fields": self.kind.fields,
            "labels": labels,
            "columns": columns,
            "api": self.api,
            "list": self.kind.plural,
        }


def _with_pass(call: LiffCall) -> Callable[[Any], dict[str, Any]]:
    """Whether each employee holds a valid pass (the page offers passes for those who do not)."""
    held = passes.list_passes(call.db, call.scope, org_id=call.org_id, active_only=True)
    covered = {p.employee_id for p in held if passes.valid_now(p)}
    return lambda e: {"pass": e.id in covered}


def _number_too(call: LiffCall) -> Callable[[Any], dict[str, Any]]:
    # The roster's answer has called the officer number `number` since before the fields were shared.
    return lambda o: {"number": o.officer_number}


EMPLOYEE_PAGE = LiffWhitelist(EMPLOYEES, Role.ENTERPRISE_ADMIN, "employees", "enterprise", _with_pass)
ROSTER_PAGE = LiffWhitelist(OFFICERS, Role.STATION_ADMIN, "roster", "police", _number_too)
PAGES = {p.page: p for p in (EMPLOYEE_PAGE, ROSTER_PAGE)}


def _read(sheet: UploadFile, call: LiffCall) -> bytes:
    from hub.context import context_of

    limit = context_of(call.db).settings.max_upload_bytes
    data = sheet.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"file over {limit} bytes")
    return data


def add_routes(page: LiffWhitelist) -> None:
    kind = page.kind
    Caller = Annotated[LiffCall, liff(page.role)]

    class Body(TokenIn, kind.new):  # type: ignore[misc,name-defined]
        """The create model with the ID token."""

    class Changes(TokenIn, kind.patch):  # type: ignore[misc,name-defined]
        """The update model with the ID token: only the fields typed in change; the others stay."""

    def listed(body: TokenIn, call: Caller) -> dict[str, Any]:
        return page.rows(call)

    def added(body: Body, call: Caller) -> dict[str, Any]:
        data = kind.new.model_construct(**body.model_dump(exclude={"id_token"}))  # validated as `Body`
        kind.add(call.db, call.scope, org_id=call.org_id, data=data)
        return page.rows(call)

    def updated(entry_id: int, body: Changes, call: Caller) -> dict[str, Any]:
        typed = body.model_dump(exclude_none=True, exclude={"id_token"})
        if not typed:
            raise LiffRefusal(400, "nothing_changed", call.t("liff.whitelist.nothing_changed"))
        changes = kind.patch.model_construct(**typed)  # validated as `Changes`
        kind.update(call.db, call.scope, org_id=call.org_id, entry_id=entry_id, changes=changes)
        return page.rows(call)

    def deleted(entry_id: int, body: TokenIn, call: Caller) -> dict[str, Any]:
        try:
            kind.delete(call.db, call.scope, org_id=call.org_id, entry_id=entry_id)
        except NotFound:
            if not kind.deleted_just_now(call.db, call.scope, entry_id=entry_id):
                raise
        return page.rows(call)

    def imported(id_token: IdToken, file: Sheet, call: Caller) -> dict[str, Any]:
        created = kind.import_rows(call.db, call.scope, org_id=call.org_id, data=_read(file, call))
        return dict(page.rows(call), imported=len(created))

    base = f"/{kind.plural}"
    router.post(f"{base}/list", name=f"liff_list_{kind.plural}")(listed)
    router.post(base, status_code=201, name=f"liff_add_{kind.thing}")(added)
    router.post(base + "/{entry_id}/update", name=f"liff_update_{kind.thing}")(updated)
    router.post(base + "/{entry_id}/delete", name=f"liff_delete_{kind.thing}")(deleted)
    router.post(f"{base}/import", status_code=201, name=f"liff_import_{kind.plural}")(imported)


add_routes(EMPLOYEE_PAGE)


@router.post("/passes/issue", status_code=201)
def issue_missing_passes(
    body: TokenIn, call: Annotated[LiffCall, liff(Role.ENTERPRISE_ADMIN)]
) -> dict[str, Any]:
    """申請通行碼: a pass for every employee on the whitelist who has no valid one. A repeat (a double tap)
    finds nobody missing: it issues nothing and answers the same list, everyone with a pass."""
    issued = passes.issue_missing_passes(call.db, call.scope, org_id=call.org_id)
    return dict(EMPLOYEE_PAGE.rows(call), issued=len(issued))


add_routes(ROSTER_PAGE)


# --- the empty import sheets ---


@templates_router.get("/{name}.xlsx")
def template(name: str) -> Response:
    """The import sheet to fill in: headers and instructions only, no one's data, so it needs no ID token
    (a download from LIFF opens outside LINE, where there is none). `name` is the kind's plural."""
    kind = next((p.kind for p in PAGES.values() if p.kind.plural == name), None)
    if kind is None:
        return Response(status_code=404)
    return Response(
        import_template(kind.columns),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
