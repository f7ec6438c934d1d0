"""What the whitelist pages (employees, duty officers) share: the uploaded file, the all-or-nothing
import's row report, and an edit form whose blank fields stay as they are. No rule lives here: the
services (hub.services.enterprises, rosters, imports) decide and refuse."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from hub.console.web import field_text
from hub.services import errors as domain

MAX_UPLOAD = 5 * 1024 * 1024  # a whitelist sheet of thousands of rows is far below this


async def uploaded(form: FormData) -> bytes | None:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None
    return await upload.read(MAX_UPLOAD + 1)


def row_report(exc: Exception) -> list[dict[str, Any]] | None:
    """The per-row report of a refused import (hub.services.imports.refuse_import), else None."""
    detail = getattr(exc, "detail", None)
    if isinstance(exc, domain.DomainError) and isinstance(detail, dict) and "errors" in detail:
        return list(detail["errors"])
    return None


def typed_changes(form: FormData, model: type[BaseModel], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields typed into an edit form, validated by `model`; ValidationError names the bad ones."""
    typed = {key: field_text(form, key, 64) for key in fields}
    return model.model_validate({k: v for k, v in typed.items() if v}).model_dump(exclude_none=True)
