"""Small pieces the route modules share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, HTTPException, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from hub.api.deps import CallerFirst, SettingsDep
from hub.documents.exports import XLSX_MEDIA_TYPE
from hub.documents.spreadsheets import IMPORT_MEDIA_TYPES
from hub.services.errors import TooLarge


def read_upload(
    caller: CallerFirst,
    file: Annotated[UploadFile, File(description=".xlsx, .ods or .csv (UTF-8 or Big5) file")],
    settings: SettingsDep,
) -> bytes:
    """The uploaded spreadsheet's bytes, refused early if it is the wrong kind or too large.

    Authentication comes first (`caller`, worked out before anything else here and shared with the
    route's own user dependency): a caller without a valid token learns nothing about what the hub accepts."""
    caller.get()
    if (file.content_type or "").split(";")[0].strip().lower() not in IMPORT_MEDIA_TYPES:
        # The media type is HTTP's business, not the domain's: the REST adapter answers it itself.
        raise HTTPException(
            415, {"error": "unsupported_media_type", "detail": "upload an .xlsx, .ods or .csv file"}
        )
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise TooLarge(f"file over {settings.max_upload_bytes} bytes")
    return data


Upload = Annotated[bytes, Depends(read_upload)]


def patch_changes(body: BaseModel) -> dict[str, Any]:
    """The fields a PATCH sets; null is refused (a whitelist entry's fields are all required)."""
    changes = body.model_dump(exclude_unset=True)
    nulls = [name for name, value in changes.items() if value is None]
    if nulls:
        # A validation error like any other body problem (422, each field named, no value echoed).
        raise RequestValidationError(
            [
                {"loc": ("body", name), "msg": "cannot be set to null", "type": "null_refused"}
                for name in nulls
            ]
        )
    return changes


XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX_MEDIA_TYPE: {}}}}
