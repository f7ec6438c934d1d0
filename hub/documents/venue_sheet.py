"""Printable venue-code posters (實聯碼): one A4 page per venue, to hang at the entrance.

People scan the big QR to record their visit (實聯登記). The poster names the venue (at most 8 characters,
the city's rule) and the organisation, and tells, in Traditional Chinese, what happens next and that the
record is deleted after 28 days.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from hub.documents.errors import DocumentError
from hub.documents.fonts import cjk_font_for
from hub.documents.qr import draw_qr

VENUE_NAME_MAX = 8
MAX_VENUES = 200
HEADLINE = "實聯登記"
INSTRUCTIONS = (
    "1. 請以手機相機或 LINE 掃描上方 QR Code。",
    "2. 輸入手機號碼，並填入簡訊驗證碼。",
    "3. 畫面顯示「登記完成」後，請出示給現場人員。",
)
PRIVACY_NOTE = "登記資料僅供安全管理及必要時聯繫之用，28 天後自動刪除。"


@dataclass(frozen=True)
class VenueSheetItem:
    qr_text: str  # what the QR holds (the hub's venue-code link or text)
    venue_name: str  # <= 8 characters
    org_name: str
    venue_code: str = ""  # short code printed under the QR, for people who cannot scan


def render_venue_sheet(venues: Sequence[VenueSheetItem], *, retention_days: int = 28) -> bytes:
    """A4 PDF, one poster a page, in the order given."""
    if not venues:
        raise DocumentError("no venue codes to print")
    if len(venues) > MAX_VENUES:
        raise DocumentError(f"at most {MAX_VENUES} venue posters in one sheet, got {len(venues)}")
    for venue in venues:
        _check(venue)
    privacy = PRIVACY_NOTE.replace("28", str(retention_days))
    all_text = HEADLINE + "".join(INSTRUCTIONS) + privacy + "場所代碼："
    all_text += "".join(v.venue_name + v.org_name + v.venue_code for v in venues)
    font = cjk_font_for(all_text).name

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(HEADLINE)
    canvas.setCreator("Checkpass hub")
    width, height = A4
    margin = 48.0
    inner = width - 2 * margin
    for index, venue in enumerate(venues):
        if index:
            canvas.showPage()
        canvas.setFont(font, 44)
        canvas.drawCentredString(width / 2, height - margin - 44, HEADLINE)
        name_size = _fit(venue.venue_name.strip(), font, 40, inner)
        canvas.setFont(font, name_size)
        canvas.drawCentredString(width / 2, height - margin - 104, venue.venue_name.strip())
        org_size = _fit(venue.org_name.strip(), font, 18, inner)
        canvas.setFont(font, org_size)
        canvas.drawCentredString(width / 2, height - margin - 136, venue.org_name.strip())

        qr_size = 360.0
        qr_top = height - margin - 156
        draw_qr(canvas, venue.qr_text, (width - qr_size) / 2, qr_top - qr_size, qr_size)
        cursor = qr_top - qr_size - 8
        if venue.venue_code:
            canvas.setFont(font, 14)
            canvas.drawCentredString(width / 2, cursor - 10, f"場所代碼：{venue.venue_code}")
            cursor -= 30
        canvas.setFont(font, 16)
        for line in INSTRUCTIONS:
            cursor -= 26
            canvas.drawString(margin + 20, cursor, line)
        canvas.setFont(font, 11)
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        canvas.drawCentredString(width / 2, margin, privacy)
        canvas.setFillColorRGB(0, 0, 0)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _check(venue: VenueSheetItem) -> None:
    name = venue.venue_name.strip() if isinstance(venue.venue_name, str) else ""
    if not name:
        raise DocumentError("venue name is empty")
    if len(name) > VENUE_NAME_MAX:
        raise DocumentError(f"venue name longer than {VENUE_NAME_MAX} characters ({len(name)})")
    if not isinstance(venue.org_name, str) or not venue.org_name.strip():
        raise DocumentError("organisation name is empty")
    if not isinstance(venue.qr_text, str) or not venue.qr_text:
        raise DocumentError("venue QR text is empty")


def _fit(text: str, font: str, size: float, width: float, smallest: float = 8.0) -> float:
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 1
    return size
