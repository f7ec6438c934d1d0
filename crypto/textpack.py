"""Text packed into 13-bit codes: how a long Chinese organisation name still fits a small QR.

UTF-16 spends 16 bits on a Chinese character. The characters people's and companies' names
use almost all sit in Big5's first 38 lead bytes (0xA1-0xC6: symbols, full-width forms and
the 5401 常用字), which numbered in order take 13 bits. The remaining 13-bit codes carry
printable ASCII and a few whole words that most Taiwanese company names end in.

Code space (each code is 13 bits, written big-endian, zero-padded to a whole byte):

* 0 .. 5965      Big5 lead 0xA1..0xC6 times 157 trail bytes (0x40-0x7E, 0xA1-0xFE), in order
* 5966 .. 6060   ASCII 0x20 .. 0x7E
* 6061 ..        `PHRASES[i]` (append-only: a code once issued means that word for ever)

A text with any character outside this space is not packable (`pack` returns None) and the
caller falls back to UTF-16. The number of codes is implied by the length: n codes take
ceil(13n/8) bytes, and that is a different length for every n.
"""

from __future__ import annotations

from functools import cache

from crypto.errors import CryptoError

_BITS = 13
_LEADS = range(0xA1, 0xC7)
_TRAILS = (*range(0x40, 0x7F), *range(0xA1, 0xFF))
_TRAIL_INDEX = {t: i for i, t in enumerate(_TRAILS)}
_BIG5_CODES = len(_LEADS) * len(_TRAILS)  # 5966
_ASCII_FIRST = _BIG5_CODES
_ASCII = range(0x20, 0x7F)
_PHRASE_FIRST = _ASCII_FIRST + len(_ASCII)  # 6061

# Longest first is not required here: `pack` tries every phrase at each position and takes the
# longest that matches. Append only.
PHRASES: tuple[str, ...] = (
    "股份有限公司",
    "有限公司",
    "分公司",
    "企業社",
    "工作室",
    "實業",
    "企業",
    "科技",
    "國際",
    "工程",
    "建設",
    "開發",
    "物流",
    "運輸",
    "交通",
    "商行",
    "公司",
    "新北市",
    "臺北市",
    "台北市",
    "政府",
    "警察局",
    "分局",
    "派出所",
)
_CODE_LIMIT = _PHRASE_FIRST + len(PHRASES)
_PHRASE_CODES = {phrase: _PHRASE_FIRST + i for i, phrase in enumerate(PHRASES)}
_PHRASE_LENGTHS = sorted({len(p) for p in PHRASES}, reverse=True)


def _char_code(char: str) -> int | None:
    point = ord(char)
    if 0x20 <= point < 0x7F:
        return _ASCII_FIRST + point - 0x20
    try:
        raw = char.encode("big5")
    except UnicodeEncodeError:
        return None
    if len(raw) != 2 or raw[0] not in _LEADS or raw[1] not in _TRAIL_INDEX:
        return None
    code = (raw[0] - _LEADS.start) * len(_TRAILS) + _TRAIL_INDEX[raw[1]]
    # Big5 has a few characters Python maps to one code point from two places: the code must
    # read back as the same character, or the text is not packable.
    return code if _code_text(code) == char else None


@cache  # a checkpoint reads the same few hundred characters all day: a verify() is decoding them
def _code_text(code: int) -> str:
    if code < _ASCII_FIRST:
        lead, trail = divmod(code, len(_TRAILS))
        try:
            return bytes((_LEADS.start + lead, _TRAILS[trail])).decode("big5")
        except UnicodeDecodeError as exc:
            raise CryptoError("packed text names an unassigned Big5 code") from exc
    if code < _PHRASE_FIRST:
        return chr(code - _ASCII_FIRST + 0x20)
    if code < _CODE_LIMIT:
        return PHRASES[code - _PHRASE_FIRST]
    raise CryptoError("packed text has a code outside the table")


def _codes(text: str) -> list[int] | None:
    codes: list[int] = []
    i = 0
    while i < len(text):
        for size in _PHRASE_LENGTHS:
            phrase_code = _PHRASE_CODES.get(text[i : i + size])
            if phrase_code is not None:
                codes.append(phrase_code)
                i += size
                break
        else:
            code = _char_code(text[i])
            if code is None:
                return None
            codes.append(code)
            i += 1
    return codes


def pack(text: str) -> bytes | None:
    """`text` as 13-bit codes, or None when a character has no code."""
    codes = _codes(text)
    if codes is None:
        return None
    value = 0
    for code in codes:
        value = (value << _BITS) | code
    total_bits = _BITS * len(codes)
    size = (total_bits + 7) // 8
    return (value << (size * 8 - total_bits)).to_bytes(size, "big")


def unpack(data: bytes) -> str:
    """The text `pack` made `data` from. CryptoError when `data` is not such a packing."""
    if type(data) is not bytes:
        raise CryptoError("packed text must be a byte string")
    count = len(data) * 8 // _BITS
    padding = len(data) * 8 - _BITS * count
    value = int.from_bytes(data, "big")
    if padding >= 8 or value & ((1 << padding) - 1):
        raise CryptoError("packed text has a wrong length or padding")
    value >>= padding
    mask = (1 << _BITS) - 1
    return "".join(
        map(_code_text, [(value >> shift) & mask for shift in range(_BITS * (count - 1), -1, -_BITS)])
    )
