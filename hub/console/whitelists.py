"""What the whitelist pages (employees, duty officers) share: the uploaded file and an edit form whose
blank fields stay as they are. No rule lives here: the services (hub.services.enterprises, rosters,
imports) decide and refuse; `hub.console.web.shows_refusals` shows a refusal (a refused import's row
report too)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from hub.console.web import field_text
from hub.services import errors as domain

MAX_UPLOAD = 5 * 1024 * 1024  # a whitelist sheet of thousands of rows is far below this


async def uploaded(form: FormData) -> bytes:
    """The uploaded sheet; a form sent without one is refused (shown by `shows_refusals`)."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise domain.Invalid("no file uploaded", field="file")
    return await upload.read(MAX_UPLOAD + 1)


def typed_changes(form: FormData, model: type[BaseModel], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields typed into an edit form, validated by `model`; ValidationError names the bad ones."""
    typed = {key: field_text(form, key, 64) for key in fields}
    return model.model_validate({k: v for k, v in typed.items() if v}).model_dump(exclude_none=True)
