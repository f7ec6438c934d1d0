"""QR codes drawn as vectors into a reportlab canvas, so they print sharp at any size.

Speed and size (issue 9: a 500-pass sheet took 6-8 s and 3.2 MB). Pass texts are alphanumeric and get
their own encoder (`_alphanumeric_symbol`: qrcode's layout cached per version, Reed-Solomon parity by
table, all 8 masks scored in one numpy pass) that gives qrcode's symbol bit for bit; other texts go
through qrcode with the same numpy mask scoring (`_FastMaskQRCode`). A symbol is drawn as one dashed
stroke per row (`_qr_operators`), ~1 KB of PDF instead of ~6 KB of rectangles. Tests compare symbols with
qrcode's and rasterise the drawing to check every module; `bench/pass_sheet.py` measures.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import qrcode
import qrcode.constants
import qrcode.util
from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from hub.documents.errors import DocumentError

# The hub's PDFs (pass sheets, venue posters: both draw their QR codes here) keep their streams binary,
# Flate only. reportlab's default also wraps each stream in ASCII85, a 7-bit form from the days of mail
# gateways: 25% bigger, and without reportlab's optional C accelerator the slowest step of a 500-pass
# sheet (~40% of its time). Every PDF reader since PDF 1.2 takes binary streams.
rl_config.useA85 = 0

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


@functools.lru_cache(maxsize=1024)  # ~5 KB a pass QR
def _cached_matrix(text: str, ecc: int) -> tuple[bytes, ...]:
    # Passes never change, and the same enterprise sheet is printed again and again.
    if set(text) <= _ALPHANUMERIC:
        modules = _alphanumeric_symbol(text, ecc)
    else:
        modules = _qrcode_symbol(text, ecc)
    bordered = np.zeros((modules.shape[0] + 2 * QUIET_ZONE,) * 2, dtype=np.uint8)
    bordered[QUIET_ZONE:-QUIET_ZONE, QUIET_ZONE:-QUIET_ZONE] = modules
    return tuple(row.tobytes() for row in bordered)


def _qrcode_symbol(text: str, ecc: int) -> Any:
    """Any text (byte mode, qrcode's own segment choice): qrcode lays it out, `best_mask_pattern` scores."""
    qr = _FastMaskQRCode(error_correction=ecc, border=0)
    qr.add_data(text)
    try:
        qr.make(fit=True)
    except qrcode.exceptions.DataOverflowError as exc:
        raise DocumentError(f"text too long for a QR code ({len(text)} characters)") from exc
    return np.array(qr.modules, dtype=np.uint8)


# Pass texts (Base45, alphanumeric) take a path of their own. qrcode spends ~6 ms a pass QR in pure Python
# (bit buffer, polynomial division, placing 3,000 modules one by one): 3 s of a 500-pass sheet. Here the
# symbol of each version is laid out once by qrcode itself (function patterns, format and version
# information, the order of the data cells) and cached; a text then costs a few numpy operations. The
# result is qrcode's symbol bit for bit (tests compare them), so the printed pass equals its PNG.
_ALPHANUMERIC_VALUE = {character: value for value, character in enumerate(qrcode.util.ALPHA_NUM.decode())}


def _alphanumeric_symbol(text: str, ecc: int) -> Any:
    count = len(text)
    payload_bits = 11 * (count // 2) + 6 * (count % 2)
    limits = qrcode.util.BIT_LIMIT_TABLE[ecc]
    # The smallest version that holds it: qrcode's best_fit, whose count field widens at versions 10 and 27.
    version = next(
        (v for v in range(1, 41) if 4 + _count_bits(v) + payload_bits <= limits[v]),
        None,
    )
    if version is None:
        raise DocumentError(f"text too long for a QR code ({count} characters)")
    bit_limit = limits[version]

    values = [_ALPHANUMERIC_VALUE[character] for character in text]
    stream = qrcode.util.MODE_ALPHA_NUM << _count_bits(version) | count
    length = 4 + _count_bits(version)
    for index in range(0, count - 1, 2):
        stream = stream << 11 | values[index] * 45 + values[index + 1]
    length += 11 * (count // 2)
    if count % 2:
        stream = stream << 6 | values[-1]
        length += 6
    terminator = min(bit_limit - length, 4) + (-(length + min(bit_limit - length, 4))) % 8
    stream <<= terminator
    length += terminator
    data = np.frombuffer(stream.to_bytes(length // 8, "big"), dtype=np.uint8)
    layout = _layout(version, ecc)
    codewords = np.concatenate([data, _PAD[: bit_limit // 8 - data.size]])
    parity = [
        np.bitwise_xor.reduce(table[layout.positions[table.shape[0]], codewords[start:stop]], axis=0)
        for table, start, stop in layout.blocks
    ]
    sequence = np.concatenate([codewords, *parity])[layout.interleave]
    placed = np.zeros(layout.cells, dtype=np.uint8)
    placed[layout.order[: sequence.size * 8]] = np.unpackbits(sequence)
    placed = placed.reshape(layout.test.shape[1:])
    best = int(np.argmin(penalties(layout.test ^ placed)))  # the first lowest, as qrcode breaks ties
    return layout.final[best] ^ placed


def _count_bits(version: int) -> int:
    return int(qrcode.util.mode_sizes_for_version(version)[qrcode.util.MODE_ALPHA_NUM])


_PAD = np.array([qrcode.util.PAD0, qrcode.util.PAD1] * 1500, dtype=np.uint8)  # more than version 40 holds


@dataclass(frozen=True)
class _Layout:
    test: Any  # [mask, row, column]: the symbol qrcode scores (format areas light), data all zero
    final: Any  # [mask, row, column]: the symbol with its format and version information, data all zero
    order: Any  # flat indexes of the data cells, in the order qrcode fills them
    cells: int  # modules in the symbol
    blocks: tuple[tuple[Any, int, int], ...]  # per Reed-Solomon block: parity table, data slice
    positions: dict[int, Any]  # data codewords in a block -> arange, to index the parity table
    interleave: Any  # data + parity codewords, block after block -> the order they are placed in


@functools.lru_cache(maxsize=32)
def _layout(version: int, ecc: int) -> _Layout:
    probe = _LayoutProbe(version=version, error_correction=ecc, border=0)
    probe.data_cache = []  # no data: every data cell stays light before the mask, so it shows the mask
    test, final = [], []
    for mask in range(8):
        probe.makeImpl(True, mask)
        test.append(probe.modules)
        probe.makeImpl(False, mask)
        final.append(probe.modules)
    size = len(probe.modules)

    blocks, data_slots, parity_slots, start = [], [], [], 0
    total_data = sum(block.data_count for block in qrcode.base.rs_blocks(version, ecc))
    parity_start = total_data
    for block in qrcode.base.rs_blocks(version, ecc):
        parity_count = block.total_count - block.data_count
        blocks.append((_parity_table(block.data_count, parity_count), start, start + block.data_count))
        data_slots.append(list(range(start, start + block.data_count)))
        parity_slots.append(list(range(parity_start, parity_start + parity_count)))
        start += block.data_count
        parity_start += parity_count
    interleave = [
        slots[i]
        for group in (data_slots, parity_slots)
        for i in range(max(map(len, group)))
        for slots in group
        if i < len(slots)
    ]
    return _Layout(
        test=np.array(test, dtype=np.uint8),
        final=np.array(final, dtype=np.uint8),
        order=np.array([row * size + column for row, column in probe.data_order], dtype=np.intp),
        cells=size * size,
        blocks=tuple(blocks),
        positions={table.shape[0]: np.arange(table.shape[0]) for table, _, _ in blocks},
        interleave=np.array(interleave, dtype=np.intp),
    )


class _LayoutProbe(qrcode.QRCode):  # type: ignore[type-arg]
    """Records the order in which qrcode's `map_data` fills the data cells (the same walk, kept)."""

    data_order: list[tuple[int, int]] = []

    def map_data(self, data: Any, mask_pattern: int) -> None:
        order, size = [], self.modules_count
        row, step = size - 1, -1
        for right in range(size - 1, 0, -2):
            column = right - 1 if right <= 6 else right  # the vertical timing pattern is skipped
            while True:
                for c in (column, column - 1):
                    if self.modules[row][c] is None:
                        order.append((row, c))
                row += step
                if row < 0 or row >= size:
                    row -= step
                    step = -step
                    break
        self.data_order = order
        super().map_data(data, mask_pattern)


# Reed-Solomon over GF(256) with qrcode's field (x^8 + x^4 + x^3 + x^2 + 1) and generator prod(x - a^i).
_EXP = np.zeros(512, dtype=np.int64)
_LOG = np.zeros(256, dtype=np.int64)
_value = 1
for _power in range(255):
    _EXP[_power] = _value
    _LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
_EXP[255:510] = _EXP[:255]
_MULTIPLY = np.zeros((256, 256), dtype=np.uint8)
_MULTIPLY[1:, 1:] = _EXP[_LOG[1:, None] + _LOG[None, 1:]]


@functools.lru_cache(maxsize=64)
def _parity_table(data_count: int, parity_count: int) -> Any:
    """[position, byte value] -> the parity bytes of that one byte alone; parity is linear, so a block's
    parity is the XOR of its bytes' rows."""
    generator = [1]
    for i in range(parity_count):  # multiply by (x + a^i), highest coefficient first
        root = int(_EXP[i])
        generator = [
            (generator[k] if k < len(generator) else 0) ^ (int(_MULTIPLY[generator[k - 1], root]) if k else 0)
            for k in range(len(generator) + 1)
        ]
    tail = generator[1:]  # x^parity_count = tail (mod generator), characteristic 2
    remainders = [tail]  # x^(parity_count + k) mod generator, k = 0, 1, ...
    for _ in range(data_count - 1):
        previous = remainders[-1]
        carry = previous[0]
        shifted = previous[1:] + [0]
        remainders.append([value ^ int(_MULTIPLY[carry, g]) for value, g in zip(shifted, tail, strict=True)])
    # The first data byte is the highest power: position i multiplies x^(parity_count + data_count - 1 - i).
    units = np.array(remainders[::-1], dtype=np.uint8)  # [position, parity byte]
    return np.ascontiguousarray(_MULTIPLY[:, units].transpose(1, 0, 2))  # [position, value, parity byte]


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
        masks = np.array(_mask_grids(len(self.modules)))
        unmasked = np.array(self.modules, dtype=bool) ^ (data & masks[0])
        return int(np.argmin(penalties(unmasked ^ (data & masks))))  # the first lowest, as qrcode breaks ties


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


def penalty(modules: Any) -> int:
    """qrcode.util.lost_point for a square boolean matrix: the same four rules, the same numbers."""
    return int(penalties(np.asarray(modules)[None])[0])


def penalties(stack: Any) -> Any:
    """`penalty` of each square matrix in a [symbol, row, column] stack, all at once (one numpy call per
    rule instead of one per rule and mask)."""
    stack = np.asarray(stack, dtype=bool)
    columns = stack.transpose(0, 2, 1)
    return (
        _runs_penalty(stack)
        + _runs_penalty(columns)
        + _blocks_penalty(stack)
        + _finder_like_penalty(stack)
        + _finder_like_penalty(columns)
        + _balance_penalty(stack)
    )


def _runs_penalty(stack: Any) -> Any:
    # Rule 1: each run of 5 or more same-colour modules in a row costs its length - 2. A run of length L
    # holds L - 4 windows of 5 alike, one of them where the run starts: windows + 2 x starting windows.
    same = stack[:, :, 1:] == stack[:, :, :-1]
    five = same[:, :, :-3] & same[:, :, 1:-2] & same[:, :, 2:-1] & same[:, :, 3:]
    starts = five.copy()
    starts[:, :, 1:] &= ~same[:, :, :-4]
    return five.sum(axis=(1, 2)) + 2 * starts.sum(axis=(1, 2))


def _blocks_penalty(stack: Any) -> Any:
    # Rule 2: each 2x2 block of one colour costs 3 (overlapping blocks all count).
    top_left = stack[:, :-1, :-1]
    same = (top_left == stack[:, :-1, 1:]) & (top_left == stack[:, 1:, :-1]) & (top_left == stack[:, 1:, 1:])
    return 3 * same.sum(axis=(1, 2))


def _finder_like_penalty(stack: Any) -> Any:
    # Rule 3: each dark-light-dark-dark-dark-light-dark (1:1:3:1:1) with 4 light modules after it, or
    # before it, costs 40. Boolean arrays shifted against each other: one numpy pass per module compared.
    light = ~stack
    width = stack.shape[2]
    core = stack[:, :, : width - 6].copy()  # the 1:1:3:1:1 core starting at each column
    for offset, dark in enumerate((False, True, True, True, False, True), start=1):
        core &= (stack if dark else light)[:, :, offset : width - 6 + offset]
    four_light = light[:, :, : width - 3] & light[:, :, 1 : width - 2] & light[:, :, 2 : width - 1]
    four_light &= light[:, :, 3:]
    after = core[:, :, : width - 10] & four_light[:, :, 7:]  # core at j, light at j+7..j+10
    before = core[:, :, 4:] & four_light[:, :, : width - 10]  # light at j..j+3, core at j+4
    return 40 * (after.sum(axis=(1, 2)) + before.sum(axis=(1, 2)))


def _balance_penalty(stack: Any) -> Any:
    # Rule 4: 10 for every full 5% the dark share is away from 50% (computed as qrcode does).
    size = stack.shape[1]
    percent = stack.sum(axis=(1, 2)).astype(float) / (size**2)
    return (np.abs(percent * 100 - 50) / 5).astype(int) * 10


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR for ``text`` as a ``size`` x ``size`` square whose lower-left corner is (x, y).

    Each row of modules is one stroked line, one module thick, whose dash pattern is the row's runs of
    dark and light modules: a vector drawing (sharp at any print size) of ~1 KB a pass QR, where one
    rectangle per run took ~6 KB and most of the sheet's time. Written as raw PDF operators in module
    units (a `cm` scales them), since reportlab's path objects cost more than the QR itself.
    """
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.addLiteral(_qr_operators(qr_matrix(text), x, y, size))
    canvas.restoreState()


_SEAM_OVERLAP = 1.05  # rows a little thicker than a module: anti-aliased viewers would show hairline seams


def _qr_operators(matrix: tuple[bytes, ...], x: float, y: float, size: float) -> str:
    count = len(matrix)
    module = size / count
    grid = np.frombuffer(b"".join(matrix), dtype=np.uint8).reshape(count, count)
    padded = np.zeros((count, count + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    rows, columns = np.nonzero(np.diff(padded, axis=1))  # where a dark run starts, and just after it ends
    # Row-major, so each row's edges alternate start, end, start, end...; their differences are the dash
    # lengths (dark, light, dark, ...), ending dark, so a final light 1 makes the count even.
    edges = columns.tolist()
    lengths = list(map(str, np.diff(columns).tolist()))
    row_of = rows.tolist()
    ends = [*(np.flatnonzero(np.diff(rows)) + 1).tolist(), len(edges)]
    # Module units, origin at the centre line of the bottom row: rows sit on whole numbers.
    operators = [f"0 G 0 J {module:.4f} 0 0 {module:.4f} {x:.3f} {y + module / 2:.3f} cm {_SEAM_OVERLAP} w"]
    first = 0
    for last in ends:
        line = count - 1 - row_of[first]
        dashes = " ".join(lengths[first : last - 1])
        operators.append(f"[{dashes} 1] 0 d {edges[first]} {line} m {edges[last - 1]} {line} l S")
        first = last
    return "\n".join(operators)
