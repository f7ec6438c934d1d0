"""Revocation status lists: per issuer key, one bit per pass serial, signed by that key.

The idea of the IETF Token Status List / W3C Bitstring Status List, kept exact (no filter, so
no false positives at a roadblock). Bit order follows the IETF draft: serial `s` is bit
`s % 8` (least significant first) of byte `s // 8`.

The counter rises by one for each serial that becomes revoked, so a device re-fetches only when
it moved, and a delta (the serials revoked between two counters) brings it up to date in a few
bytes. Serials at or beyond `size` are not revoked: revoking one grows the list (and bumps the
counter), so a list that is current answers exactly for every serial. Whether a list is
current is the trust bundle's job: it carries each key's counter.

Wire form: a COSE_Sign1 by the issuer key over a CBOR map; the bitstring is zlib-compressed,
and a delta's serials are sorted gaps as LEB128 varints (about 2 bytes per serial at 1M passes).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from crypto.cose import open_document, sign_document
from crypto.errors import CryptoError
from crypto.keys import KID_BYTES, KeyPair, kid_of

LIST_TYPE = "status"
DELTA_TYPE = "status-delta"
# 2^28 serials = 32 MiB of bits; bounds what a hostile list can make a device allocate.
MAX_SIZE = 1 << 28
_MAX_DELTA_SERIALS = 1 << 22


def _check_serial(serial: object) -> int:
    if not isinstance(serial, int) or isinstance(serial, bool) or not 0 <= serial < MAX_SIZE:
        raise CryptoError(f"serial must be an integer in [0, {MAX_SIZE})")
    return serial


@dataclass
class StatusList:
    issuer_kid: bytes
    counter: int
    size: int
    bits: bytearray  # bit `serial` set => revoked

    def __post_init__(self) -> None:
        if not isinstance(self.issuer_kid, bytes) or len(self.issuer_kid) != KID_BYTES:
            raise CryptoError("status list: bad issuer kid")
        if not isinstance(self.size, int) or not 0 <= self.size <= MAX_SIZE:
            raise CryptoError("status list: bad size")
        if not isinstance(self.counter, int) or self.counter < 0:
            raise CryptoError("status list: bad counter")
        if not isinstance(self.bits, bytearray) or len(self.bits) != (self.size + 7) // 8:
            raise CryptoError("status list: bits do not match size")

    @classmethod
    def empty(cls, issuer_kid: bytes, size: int) -> StatusList:
        if not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
            raise CryptoError("status list: bad size")
        return cls(issuer_kid=issuer_kid, counter=0, size=size, bits=bytearray((size + 7) // 8))

    def is_revoked(self, serial: int) -> bool:
        if not 0 <= serial < self.size:
            if not isinstance(serial, int) or serial < 0:
                raise CryptoError("serial must be a non-negative integer")
            return False  # beyond the list: never revoked (revoking would have grown it)
        return bool(self.bits[serial >> 3] >> (serial & 7) & 1)

    def _grow(self, size: int) -> None:
        if size > self.size:
            self.bits.extend(bytes((size + 7) // 8 - len(self.bits)))
            self.size = size

    def revoke(self, serial: int) -> None:
        """Set the serial's bit; the counter moves only when the bit was not set yet."""
        _check_serial(serial)
        self._grow(serial + 1)
        mask = 1 << (serial & 7)
        if not self.bits[serial >> 3] & mask:
            self.bits[serial >> 3] |= mask
            self.counter += 1

    def copy(self) -> StatusList:
        return StatusList(self.issuer_kid, self.counter, self.size, bytearray(self.bits))


@dataclass(frozen=True)
class StatusDelta:
    issuer_kid: bytes
    from_counter: int
    to_counter: int
    serials: tuple[int, ...]


def _varints(values: list[int]) -> bytes:
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def _unvarints(data: bytes) -> list[int]:
    values: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            if shift > 35:
                raise CryptoError("status delta: varint too long")
        else:
            values.append(value)
            value = shift = 0
    if shift:
        raise CryptoError("status delta: truncated varint")
    return values


def _counter(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CryptoError(f"{what} must be a non-negative integer")
    return value


def sign_status_list(sl: StatusList, issuer: KeyPair) -> bytes:
    """The list as a COSE_Sign1 by its issuer key, the bitstring zlib-compressed."""
    if not isinstance(sl, StatusList) or not isinstance(issuer, KeyPair):
        raise CryptoError("sign_status_list needs a StatusList and its issuer KeyPair")
    if sl.issuer_kid != issuer.kid:
        raise CryptoError("status list belongs to another issuer key")
    return sign_document(
        {
            "typ": LIST_TYPE,
            "kid": sl.issuer_kid,
            "ctr": sl.counter,
            "size": sl.size,
            "bits": zlib.compress(bytes(sl.bits), 9),
        },
        issuer,
    )


def load_status_list(data: bytes, issuer_public_key: bytes) -> StatusList:
    """Verify and decode a signed status list; CryptoError unless that issuer key signed it."""
    body = open_document(data, issuer_public_key, LIST_TYPE)
    kid = body.get("kid")
    if kid != kid_of(issuer_public_key):
        raise CryptoError("status list: kid is not the signing issuer key's")
    size = body.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise CryptoError("status list: bad size")
    compressed = body.get("bits")
    if not isinstance(compressed, bytes):
        raise CryptoError("status list: bits must be a byte string")
    expected = (size + 7) // 8
    inflater = zlib.decompressobj()
    try:
        bits = inflater.decompress(compressed, expected + 1)  # bounded: no zip bomb
    except zlib.error as exc:
        raise CryptoError("status list: bits are not zlib data") from exc
    if len(bits) != expected or not inflater.eof:
        raise CryptoError("status list: bitstring length does not match size")
    return StatusList(
        issuer_kid=kid, counter=_counter(body.get("ctr"), "counter"), size=size, bits=bytearray(bits)
    )


def _check_delta(delta: StatusDelta) -> list[int]:
    if not isinstance(delta.issuer_kid, bytes) or len(delta.issuer_kid) != KID_BYTES:
        raise CryptoError("status delta: bad issuer kid")
    if _counter(delta.to_counter, "to_counter") < _counter(delta.from_counter, "from_counter"):
        raise CryptoError("status delta: counters go backwards")
    serials = sorted({_check_serial(s) for s in delta.serials})
    if len(serials) > delta.to_counter - delta.from_counter:
        raise CryptoError("status delta: more serials than counter steps")
    return serials


def sign_status_delta(delta: StatusDelta, issuer: KeyPair) -> bytes:
    """A delta as a COSE_Sign1 by its issuer key; serials sent as ascending gaps in LEB128."""
    if not isinstance(delta, StatusDelta) or not isinstance(issuer, KeyPair):
        raise CryptoError("sign_status_delta needs a StatusDelta and its issuer KeyPair")
    if delta.issuer_kid != issuer.kid:
        raise CryptoError("status delta belongs to another issuer key")
    serials = _check_delta(delta)
    gaps = [b - a for a, b in zip([0, *serials], serials, strict=False)]
    return sign_document(
        {
            "typ": DELTA_TYPE,
            "kid": delta.issuer_kid,
            "from": delta.from_counter,
            "to": delta.to_counter,
            "gaps": _varints(gaps),
        },
        issuer,
    )


def load_status_delta(data: bytes, issuer_public_key: bytes) -> StatusDelta:
    """Verify and decode a signed delta; CryptoError unless that issuer key signed it."""
    body = open_document(data, issuer_public_key, DELTA_TYPE)
    kid = body.get("kid")
    if kid != kid_of(issuer_public_key):
        raise CryptoError("status delta: kid is not the signing issuer key's")
    gaps_raw = body.get("gaps")
    if not isinstance(gaps_raw, bytes) or len(gaps_raw) > 5 * _MAX_DELTA_SERIALS:
        raise CryptoError("status delta: bad serials")
    serials: list[int] = []
    total = 0
    for gap in _unvarints(gaps_raw):
        total += gap
        serials.append(total)
    if any(b <= a for a, b in zip(serials, serials[1:], strict=False)):
        raise CryptoError("status delta: serials not strictly ascending")
    delta = StatusDelta(
        issuer_kid=kid,
        from_counter=_counter(body.get("from"), "from"),
        to_counter=_counter(body.get("to"), "to"),
        serials=tuple(serials),
    )
    _check_delta(delta)
    return delta


def apply_delta(sl: StatusList, delta: StatusDelta) -> StatusList:
    """A new list: `sl` with the delta's serials revoked. CryptoError if it does not start at sl.counter."""
    if delta.issuer_kid != sl.issuer_kid:
        raise CryptoError("status delta is for another issuer key")
    if delta.from_counter != sl.counter:
        raise CryptoError(f"status delta starts at {delta.from_counter}, list is at {sl.counter}")
    serials = _check_delta(delta)
    out = sl.copy()
    for serial in serials:
        out.revoke(serial)
    out.counter = delta.to_counter
    return out


def diff_status(old: StatusList, new: StatusList) -> StatusDelta:
    """The delta that takes `old` to `new` (both of one issuer key; revocations only ever add bits)."""
    if old.issuer_kid != new.issuer_kid:
        raise CryptoError("status lists of different issuer keys")
    if new.counter < old.counter:
        raise CryptoError("new status list is older than the old one")
    added: list[int] = []
    for index, byte in enumerate(new.bits):
        before = old.bits[index] if index < len(old.bits) else 0
        if byte & ~before & 0xFF:
            fresh = byte & ~before
            added.extend(index * 8 + bit for bit in range(8) if fresh >> bit & 1)
        if before & ~byte & 0xFF:
            raise CryptoError("a revoked serial is clear in the new list")
    return StatusDelta(new.issuer_kid, old.counter, new.counter, tuple(added))
