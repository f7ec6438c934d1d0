"""The sheet QR as printed: vector rows that rasterise to the exact symbol and decode at 300 dpi, and a
full 500-pass sheet small enough to mail (issue 9's goal: at most 1 MB)."""

import io

import numpy as np
import pytest
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from crypto.keys import KeyPair
from hub.documents.pass_sheet import MAX_PASSES, PassSheetItem, render_pass_sheet
from hub.documents.qr import draw_qr, qr_matrix
from tests.factories import make_pass
from tests.hub.documents.doc_pdf_tools import pdf_pages_png

NOW = 1_790_000_000
DPI = 300


@pytest.fixture(scope="module")
def pass_texts():
    key = KeyPair.generate()
    return [make_pass(key, serial=serial, now=NOW, holder_name="歐陽娜娜") for serial in range(MAX_PASSES)]


def _decoded(png_paths):
    import zxingcpp
    from pyzbar.pyzbar import ZBarSymbol, decode

    by_zxing, by_zbar = [], []
    for path in png_paths:
        image = Image.open(path).convert("L")
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        by_zxing.extend(result.text for result in found)
        by_zbar.extend(symbol.data.decode() for symbol in decode(image, symbols=[ZBarSymbol.QRCODE]))
    return sorted(by_zxing), sorted(by_zbar)


@pytest.mark.parametrize("per_page", [4, 1])
def test_every_qr_decodes_at_300_dpi_with_two_decoders(pass_texts, tmp_path, per_page):
    texts = pass_texts[:6]
    pdf = render_pass_sheet([PassSheetItem.from_pass(t) for t in texts], per_page=per_page)
    pages = pdf_pages_png(pdf, tmp_path, dpi=DPI)
    by_zxing, by_zbar = _decoded(pages)
    assert by_zxing == sorted(texts)
    assert by_zbar == sorted(texts)


@pytest.mark.parametrize(
    "text",
    ["pass", "https://hub.example.tw/v/Ab3dEf9hIjKl", "短文字 with 中文"],
    ids=["pass", "venue-url", "byte-mode"],
)
def test_the_drawing_rasterises_to_the_exact_symbol(pass_texts, tmp_path, text):
    """Each module's centre, read from poppler's 300 dpi raster, has the colour of the module: no seam,
    no shift, no run too long or too short anywhere in the symbol."""
    if text == "pass":
        text = pass_texts[0]
    matrix = qr_matrix(text)
    x, y, size = 72.0, 144.0, 288.0  # points; 4 inches square at 300 dpi = 1200 pixels
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(432, 576))
    draw_qr(canvas, text, x, y, size)
    canvas.showPage()
    canvas.save()
    [page] = pdf_pages_png(buffer.getvalue(), tmp_path, dpi=DPI)
    raster = np.asarray(Image.open(page).convert("L"))
    count = len(matrix)
    scale = DPI / 72
    module = size / count * scale
    left, top = x * scale, (576 - y - size) * scale
    centres = (np.arange(count) + 0.5) * module
    seen = raster[np.ix_((top + centres).astype(int), (left + centres).astype(int))] < 128
    expected = np.array([list(row) for row in matrix], dtype=bool)
    assert (seen == expected).all(), f"{int((seen != expected).sum())} modules differ"


def test_a_sheet_of_500_passes_is_at_most_1_mb_and_all_vector(pass_texts):
    pdf = render_pass_sheet([PassSheetItem.from_pass(t) for t in pass_texts], per_page=4)
    assert len(pdf) <= 1_000_000, f"{len(pdf) / 1e6:.2f} MB"
    assert b"/Subtype /Image" not in pdf  # QR codes are drawn, not pasted in as pictures
