"""QR codes drawn as vectors into a reportlab canvas, so they print sharp at any size.

Speed: a pass QR (version 11) took ~16 ms in pure Python, most of it qrcode trying each of the 8 mask
patterns (lay out the symbol, then score it) - about 9 s of a 500-pass sheet. `_FastMaskQRCode` lays
the symbol out once and scores all 8 masks with numpy, using qrcode's own scoring rules and tie-break,
so it picks the very mask qrcode picks and the symbol is bit-for-bit the same (tests compare them).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
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
    # Even with the fast mask choice a pass QR costs ~7 ms; passes never change, and the same
    # enterprise sheet is printed again and again.
    qr = _FastMaskQRCode(error_correction=ecc, border=QUIET_ZONE)
    if set(text) <= _ALPHANUMERIC:
        qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        qr.add_data(text)
    try:
        qr.make(fit=True)
    except qrcode.exceptions.DataOverflowError as exc:
        raise DocumentError(f"text too long for a QR code ({len(text)} characters)") from exc
    return tuple(bytes(row) for row in qr.get_matrix())


class _FastMaskQRCode(qrcode.QRCode):  # type: ignore[type-arg]
    """qrcode's QRCode with the mask chosen by `best_mask_pattern` below (same answer, ~5x faster)."""

    _data_cells: Any = None

    def map_data(self, data: Any, mask_pattern: int) -> None:
        # The cells still empty when the data goes in are the data cells, the only ones a mask flips.
        self._data_cells = np.array([[cell is None for cell in row] for row in self.modules], dtype=bool)
        super().map_data(data, mask_pattern)

    def best_mask_pattern(self) -> int:
        self.makeImpl(True, 0)  # test layout (format areas light, as qrcode scores it), mask 0 applied
        data = self._data_cells
        masks = _mask_grids(len(self.modules))
        unmasked = np.array(self.modules, dtype=bool) ^ (data & masks[0])
        scores = [penalty(unmasked ^ (data & masks[i])) for i in range(8)]
        return int(np.argmin(scores))  # the first lowest, as qrcode breaks ties


@functools.lru_cache(maxsize=8)
def _mask_grids(size: int) -> tuple[Any, ...]:
    """The 8 mask patterns of ISO/IEC 18004 (qrcode.util.mask_func) as boolean grids, [row, column]."""
    i, j = np.indices((size, size))
    return (
        (i + j) % 2 == 0,
        i % 2 == 0,
        j % 3 == 0,
        (i + j) % 3 == 0,
        (i // 2 + j // 3) % 2 == 0,
        (i * j) % 2 + (i * j) % 3 == 0,
        ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        ((i * j) % 3 + (i + j) % 2) % 2 == 0,
    )


_FINDER_LIKE = (
    np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], dtype=bool),
    np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1], dtype=bool),
)


def penalty(modules: Any) -> int:
    """qrcode.util.lost_point for a square boolean matrix: the same four rules, the same numbers."""
    size = modules.shape[0]
    return (
        _runs_penalty(modules)
        + _runs_penalty(modules.T)
        + _blocks_penalty(modules)
        + (_finder_like_penalty(modules) + _finder_like_penalty(modules.T) + _balance_penalty(modules, size))
    )


def _runs_penalty(modules: Any) -> int:
    # Rule 1: each run of 5 or more same-colour modules in a row costs its length - 2.
    size = modules.shape[0]
    padded = np.full((size, size + 1), 2, dtype=np.int8)  # a 2 ends every row's last run
    padded[:, :size] = modules
    flat = padded.ravel()
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    lengths = np.diff(np.append(starts, flat.size))
    lengths = lengths[flat[starts] != 2]
    long_runs = lengths[lengths >= 5]
    return int((long_runs - 2).sum())


def _blocks_penalty(modules: Any) -> int:
    # Rule 2: each 2x2 block of one colour costs 3 (overlapping blocks all count).
    top_left = modules[:-1, :-1]
    same = (top_left == modules[:-1, 1:]) & (top_left == modules[1:, :-1]) & (top_left == modules[1:, 1:])
    return 3 * int(same.sum())


def _finder_like_penalty(modules: Any) -> int:
    # Rule 3: each 1:1:3:1:1 pattern with 4 light modules on one side costs 40.
    windows = np.lib.stride_tricks.sliding_window_view(modules, 11, axis=1)
    return 40 * sum(int((windows == pattern).all(axis=2).sum()) for pattern in _FINDER_LIKE)


def _balance_penalty(modules: Any, size: int) -> int:
    # Rule 4: 10 for every full 5% the dark share is away from 50% (computed as qrcode does).
    percent = float(int(modules.sum())) / (size**2)
    return int(abs(percent * 100 - 50) / 5) * 10


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
