"""QR codes drawn as vectors into a reportlab canvas, so they print sharp at any size."""

from __future__ import annotations

import functools

import qrcode
import qrcode.constants
import qrcode.util
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas

from hub.documents.errors import DocumentError

QUIET_ZONE = 4  # modules of white border the QR standard asks for
_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def qr_matrix(text: str, ecc: int = qrcode.constants.ERROR_CORRECT_Q) -> tuple[bytes, ...]:
    """The QR for ``text`` as rows of modules (1 dark, 0 light), quiet zone included.

    Encodes the way ``crypto.passes.pass_qr_png`` does (one alphanumeric segment when the text allows it,
    ECC Q by default), so a printed pass holds the same symbol as the PNG.
    """
    if not isinstance(text, str) or not text:
        raise DocumentError("QR text must be a non-empty string")
    return _cached_matrix(text, ecc)


@functools.lru_cache(maxsize=1024)  # ~7 KB a pass QR
def _cached_matrix(text: str, ecc: int) -> tuple[bytes, ...]:
    # Choosing the best of the 8 masks is most of the ~50 ms a pass QR costs in pure Python; passes never
    # change, and the same enterprise sheet is printed again and again.
    qr = qrcode.QRCode(error_correction=ecc, border=QUIET_ZONE)
    if set(text) <= _ALPHANUMERIC:
        qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        qr.add_data(text)
    try:
        qr.make(fit=True)
    except qrcode.exceptions.DataOverflowError as exc:
        raise DocumentError(f"text too long for a QR code ({len(text)} characters)") from exc
    return tuple(bytes(row) for row in qr.get_matrix())


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR for ``text`` as a ``size`` x ``size`` square whose lower-left corner is (x, y)."""
    matrix = qr_matrix(text)
    count = len(matrix)
    module = size / count
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        column = 0
        while column < count:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < count and row[column]:
                column += 1
            # One rectangle per run of dark modules, reaching a little into the row below: anti-aliased
            # viewers would otherwise show hairline seams between rows, which upsets some scanners.
            path.rect(x + start * module, top - module * 0.05, (column - start) * module, module * 1.05)
    # Non-zero winding: the overlaps must stay black (reportlab's default, even-odd, would punch holes).
    canvas.drawPath(path, stroke=0, fill=1, fillMode=FILL_NON_ZERO)
    canvas.restoreState()
