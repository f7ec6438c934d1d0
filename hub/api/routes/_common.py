"""Small pieces the route modules share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, File, Response, UploadFile
from pydantic import BaseModel

from hub.api.deps import SettingsDep
from hub.documents.exports import XLSX_MEDIA_TYPE
from hub.documents.spreadsheets import ColumnSpec, import_template
from hub.errors import HubError

XLSX_TYPES = {
    XLSX_MEDIA_TYPE,
    "application/octet-stream",
    "application/zip",
    "",
}


def read_upload(file: Annotated[UploadFile, File(description=".xlsx file")], settings: SettingsDep) -> bytes:
    """The uploaded spreadsheet's bytes, refused early if it is the wrong kind or too large."""
    if (file.content_type or "") not in XLSX_TYPES:
        raise HubError(415, "unsupported_media_type", "upload an .xlsx file")
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HubError(413, "too_large", f"file over {settings.max_upload_bytes} bytes")
    return data


Upload = Annotated[bytes, Depends(read_upload)]


def patch_changes(body: BaseModel) -> dict[str, Any]:
    """The fields a PATCH sets; null is refused (a whitelist entry's fields are all required)."""
    changes = body.model_dump(exclude_unset=True)
    if any(v is None for v in changes.values()):
        raise HubError(422, "invalid_request", "fields cannot be set to null")
    return changes


def template_response(columns: Sequence[ColumnSpec], name: str) -> Response:
    """An empty import sheet with the right headers and text-formatted columns, to fill in and upload."""
    return Response(
        import_template(columns),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX_MEDIA_TYPE: {}}}}
