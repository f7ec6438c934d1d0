"""What a signed link (hub.line.links) serves: a pass's QR image, its printable PDF, an enterprise's
sheet or its venue-code posters rendered for the chat (kept in memory for the link's lifetime)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from crypto.passes import pass_qr_png
from hub.services.valid_passes import servable_pass


def _gone(detail: str) -> Response:
    return JSONResponse({"error": "gone", "detail": detail}, status_code=410)


def serve(db: Session, service: Any, kind: str, ident: str) -> Response:
    if kind in ("sheet", "posters"):  # made for the chat and kept for the link's lifetime (webhook.py)
        pdf = service.sheets.get(ident) if service is not None else None
        if pdf is None:
            return _gone("this sheet is no longer kept; ask for it again in the chat")
        headers = {"Cache-Control": "no-store"}
        if kind == "posters":
            headers["Content-Disposition"] = 'inline; filename="venue-codes.pdf"'
        return Response(pdf, media_type="application/pdf", headers=headers)
    record = servable_pass(db, ident)
    if record is None:
        return _gone("the pass is no longer valid")
    headers = {"Cache-Control": "no-store"}
    if kind in ("qr", "preview"):
        return Response(
            pass_qr_png(record.text, box_size=10 if kind == "qr" else 4),
            media_type="image/png",
            headers=headers,
        )
    from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet

    pdf = render_pass_sheet([PassSheetItem.from_pass(record.text)], per_page=1)
    headers["Content-Disposition"] = f'inline; filename="pass-{record.pass_id[:8]}.pdf"'
    return Response(pdf, media_type="application/pdf", headers=headers)
