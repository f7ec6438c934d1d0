"""Printable A4 pass sheets: each pass as a card with its QR, who holds it, and until when.

The card shows the holder's name masked by default (names are masked in every output, docs/requirements.md 3;
a paper pass lies around), the national ID in the masked form the pass itself carries, the organisation, the
kind of pass, its validity in Taiwan time, a short pass id for the phone line, and a reminder in Traditional
Chinese that the holder must carry their ID card: the pass proves permission, the card proves identity."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from crypto.identity import mask_name
from crypto.local_time import taipei_text
from hub.documents.errors import DocumentError
from hub.documents.fonts import cjk_font_for
from hub.documents.qr import draw_qr

CARRY_ID_NOTICE = "請隨身攜帶身分證，以供查驗時核對身分。"
KIND_LABELS = {"employee": "員工通行證", "vehicle": "車輛通行證"}
MAX_PASSES = 500  # a sheet is for printing; thousands belong in several print jobs
PER_PAGE_CHOICES = (1, 2, 4)


@dataclass(frozen=True)
class PassSheetItem:
    pass_text: str  # "TP1:..." - exactly what the QR holds
    holder_name: str  # as issued; masked on the card unless the policy says otherwise
    masked_national_id: str  # already masked, as in the pass claims ("A12*5*6*9*")
    org_name: str
    kind: str  # "employee", "vehicle", ...
    not_before: int  # epoch seconds
    expires_at: int  # epoch seconds
    pass_id: bytes  # 16 bytes (cti)

    @classmethod
    def from_pass(cls, pass_text: str) -> PassSheetItem:
        """Fill a card from the pass itself (decoded, not verified: the hub just signed it)."""
        from crypto.errors import CryptoError
        from crypto.passes import decode_pass

        try:
            _, claims = decode_pass(pass_text)
        except CryptoError as exc:
            raise DocumentError(f"not a readable pass: {exc}") from exc
        return cls(
            pass_text=pass_text,
            holder_name=claims.holder_name,
            masked_national_id=claims.masked_national_id,
            org_name=claims.org_name,
            kind=claims.kind,
            not_before=claims.not_before,
            expires_at=claims.expires_at,
            pass_id=claims.pass_id,
        )


def short_pass_id(pass_id: bytes) -> str:
    """First 8 hex digits in two groups, e.g. ``3f9a-07c2``: enough to find the pass, short to read out."""
    digits = pass_id.hex()[:8].upper()
    return f"{digits[:4]}-{digits[4:]}"


def render_pass_sheet(
    passes: Sequence[PassSheetItem], *, show_full_name: bool = False, per_page: int = 4
) -> bytes:
    """A4 PDF with ``per_page`` (1, 2 or 4) pass cards a page, in the order given."""
    if not passes:
        raise DocumentError("no passes to print")
    if len(passes) > MAX_PASSES:
        raise DocumentError(f"at most {MAX_PASSES} passes in one sheet, got {len(passes)}")
    if per_page not in PER_PAGE_CHOICES:
        raise DocumentError(f"per_page must be one of {PER_PAGE_CHOICES}")
    cards = [_card_lines(item, show_full_name) for item in passes]
    font = cjk_font_for("".join("".join(lines) for _, lines in cards) + "通行證")

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle("通行證")
    canvas.setCreator("Checkpass hub")
    page_width, page_height = A4
    margin = 28.0
    columns, rows = {1: (1, 1), 2: (1, 2), 4: (2, 2)}[per_page]
    card_width = (page_width - margin * (columns + 1)) / columns
    card_height = (page_height - margin * (rows + 1)) / rows
    for index, (item, lines) in enumerate(zip(passes, (lines for _, lines in cards), strict=True)):
        slot = index % per_page
        if index and slot == 0:
            canvas.showPage()
        column, row = slot % columns, slot // columns
        x = margin + column * (card_width + margin)
        y = page_height - margin - (row + 1) * card_height - row * margin
        _draw_card(canvas, font.name, item, lines, x, y, card_width, card_height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _card_lines(item: PassSheetItem, show_full_name: bool) -> tuple[str, list[str]]:
    _check_item(item)
    title = KIND_LABELS.get(item.kind, f"通行證（{item.kind}）")
    name = item.holder_name.strip() if show_full_name else mask_name(item.holder_name)
    lines = [
        title,
        f"姓名：{name}",
        f"身分證：{item.masked_national_id}",
        f"單位：{item.org_name.strip()}",
        f"生效：{_taipei(item.not_before)}",
        f"到期：{_taipei(item.expires_at)}",
        f"證號：{short_pass_id(item.pass_id)}",
        CARRY_ID_NOTICE,
    ]
    return title, lines


def _check_item(item: PassSheetItem) -> None:
    if not isinstance(item.pass_text, str) or not item.pass_text.startswith("TP1:"):
        raise DocumentError("pass_text must be a TP1: pass")
    if not isinstance(item.pass_id, bytes | bytearray) or len(item.pass_id) != 16:
        raise DocumentError("pass_id must be 16 bytes")
    if not item.holder_name or not item.holder_name.strip():
        raise DocumentError("holder name is empty")
    if "*" not in item.masked_national_id:
        # A full ID must never be printed; the pass carries the masked form only.
        raise DocumentError("national ID must be given masked")
    if item.expires_at <= item.not_before:
        raise DocumentError("pass expires before it becomes valid")


def _taipei(epoch: int) -> str:
    return taipei_text(epoch)  # "2026-12-02 14:00 (UTC+8)": the verdict on a screen says the same


def _draw_card(
    canvas: Canvas,
    font: str,
    item: PassSheetItem,
    lines: list[str],
    x: float,
    y: float,
    width: float,
    height: float,
) -> None:
    canvas.saveState()
    canvas.setStrokeColorRGB(0.55, 0.55, 0.55)
    canvas.setDash(4, 3)  # a cutting line
    canvas.rect(x, y, width, height, stroke=1, fill=0)
    canvas.restoreState()

    padding = 14.0
    title, *body = lines
    notice = body.pop()
    inner = width - 2 * padding
    title_size = _fit(title, font, 20, inner)
    text_size = min(12.0, height / 30)
    qr_size = min(inner, height - padding * 3 - title_size - (len(body) + 2) * text_size * 1.5)
    cursor = y + height - padding - title_size
    canvas.setFont(font, title_size)
    canvas.drawCentredString(x + width / 2, cursor, title)
    cursor -= padding * 0.6 + qr_size
    draw_qr(canvas, item.pass_text, x + (width - qr_size) / 2, cursor, qr_size)
    cursor -= text_size * 0.6
    for line in body:
        cursor -= text_size * 1.5
        size = _fit(line, font, text_size, inner)
        canvas.setFont(font, size)
        canvas.drawString(x + padding, cursor, _clip(line, font, size, inner))
    cursor -= text_size * 1.7
    size = _fit(notice, font, text_size, inner)
    canvas.setFont(font, size)
    canvas.setFillColorRGB(0.7, 0.0, 0.0)
    canvas.drawString(x + padding, cursor, notice)
    canvas.setFillColorRGB(0, 0, 0)


def _fit(text: str, font: str, size: float, width: float, smallest: float = 7.0) -> float:
    """The largest size <= ``size`` (down to ``smallest``) at which ``text`` fits in ``width``."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _clip(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
