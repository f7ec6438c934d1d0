"""Base45 (RFC 9285): bytes as the 45 characters of the QR alphanumeric mode.

Written here rather than taken from PyPI because it is forty lines, and decoding sits on the
verify hot path: the decoder below turns the text into digit values with one `translate`
and works on all groups at once with big-integer arithmetic, several times faster than a loop.
"""

from __future__ import annotations

from crypto.errors import CryptoError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
_DECODE_TABLE = bytes(ALPHABET.index(chr(c)) if chr(c) in ALPHABET else _INVALID for c in range(256))


def b45encode(data: bytes) -> str:
    """Encode bytes as Base45 text."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CryptoError("data must be bytes")
    data = bytes(data)
    out: list[str] = []
    a = ALPHABET
    for i in range(0, len(data) - 1, 2):
        n = (data[i] << 8) | data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out.append(a[c] + a[d] + a[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out.append(a[c] + a[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode Base45 text; CryptoError on any character outside the alphabet or an impossible group."""
    if not isinstance(text, str):
        raise CryptoError("Base45 input must be text")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise CryptoError("Base45 text must be ASCII") from exc
    values = raw.translate(_DECODE_TABLE)
    if _INVALID in values:
        raise CryptoError("character outside the Base45 alphabet")
    full, rest = divmod(len(values), 3)
    if rest == 1:
        raise CryptoError("Base45 text has an impossible length")
    cut = full * 3
    # All groups at once with big-integer arithmetic: each group gets a 32-bit little-endian
    # lane holding c + 45*d + 2025*e (< 2^17, so lanes never carry into each other).
    lanes_c = bytearray(4 * full)
    lanes_d = bytearray(4 * full)
    lanes_e = bytearray(4 * full)
    lanes_c[0::4] = values[0:cut:3]
    lanes_d[0::4] = values[1:cut:3]
    lanes_e[0::4] = values[2:cut:3]
    total = (
        int.from_bytes(lanes_c, "little")
        + 45 * int.from_bytes(lanes_d, "little")
        + 2025 * int.from_bytes(lanes_e, "little")
    )
    lanes = total.to_bytes(4 * full, "little")
    if lanes[2::4].count(0) != full:
        raise CryptoError("Base45 group out of range")
    out = bytearray(2 * full)
    out[0::2] = lanes[1::4]  # each group is a big-endian pair
    out[1::2] = lanes[0::4]
    if rest == 2:
        last = values[cut] + 45 * values[cut + 1]
        if last > 0xFF:
            raise CryptoError("Base45 group out of range")
        out.append(last)
    return bytes(out)
