"""HTTP answers that more than one front end gives (REST and the console): a service's file download."""

from __future__ import annotations

from fastapi import Response

from hub.services.downloads import Download


def file_response(download: Download) -> Response:
    """The file as an attachment, saved under the name the service chose."""
    return Response(
        download.content,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )
