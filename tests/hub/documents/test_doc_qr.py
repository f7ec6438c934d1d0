"""The sheet QR: the fast mask choice must give qrcode's own symbol, bit for bit, and scan."""

import io
import random
import string

import numpy as np
import qrcode
import qrcode.constants
import qrcode.util
from PIL import Image

from crypto.base45 import b45encode
from crypto.passes import pass_qr_png
from hub.documents.qr import QUIET_ZONE, penalty, qr_matrix

_RNG = random.Random(20261125)


def _reference_matrix(text: str, ecc: int) -> tuple[bytes, ...]:
    """What qrcode alone makes (its own 8-way mask search), encoded the way qr_matrix encodes."""
    qr = qrcode.QRCode(error_correction=ecc, border=QUIET_ZONE)
    if all(c in qrcode.util.ALPHA_NUM.decode() for c in text):
        qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        qr.add_data(text)
    qr.make(fit=True)
    return tuple(bytes(row) for row in qr.get_matrix())


def _texts() -> list[str]:
    passes = ["TP1:" + b45encode(_RNG.randbytes(n)) for n in (20, 90, 150, 180, 190, 200) for _ in range(6)]
    venues = [
        f"https://hub.example.tw/v/{''.join(_RNG.choices(string.ascii_letters, k=12))}" for _ in range(6)
    ]
    return passes + venues + ["短文字 with 中文", "A"]


def test_symbols_are_qrcodes_own_for_every_size_and_level():
    levels = (
        qrcode.constants.ERROR_CORRECT_L,
        qrcode.constants.ERROR_CORRECT_Q,
        qrcode.constants.ERROR_CORRECT_H,
    )
    checked = 0
    for text in _texts():
        for ecc in levels:
            assert qr_matrix(text, ecc) == _reference_matrix(text, ecc), (text, ecc)
            checked += 1
    assert checked == 3 * len(_texts())


def test_penalty_is_qrcodes_lost_point_on_any_matrix():
    for size in (21, 25, 45, 61, 101):
        for density in (0.1, 0.5, 0.9):
            grid = [[_RNG.random() < density for _ in range(size)] for _ in range(size)]
            assert penalty(np.array(grid, dtype=bool)) == qrcode.util.lost_point(grid), (size, density)


def test_sheet_symbol_matches_the_pass_png_and_decodes():
    from pyzbar.pyzbar import decode

    text = "TP1:" + b45encode(_RNG.randbytes(190))
    matrix = qr_matrix(text)
    image = Image.open(io.BytesIO(pass_qr_png(text, box_size=1))).convert("L")
    png_modules = tuple(
        bytes(int(image.getpixel((x, y)) < 128) for x in range(image.width)) for y in range(image.height)
    )
    assert matrix == png_modules
    big = Image.new("L", (len(matrix) * 6, len(matrix) * 6))
    big.putdata([0 if matrix[y // 6][x // 6] else 255 for y in range(big.height) for x in range(big.width)])
    assert [symbol.data.decode() for symbol in decode(big)] == [text]
