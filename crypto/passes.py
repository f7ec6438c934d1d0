"""The pass: CWT-style claims in a COSE_Sign1, Base45 text with the prefix `TP1:`, and its QR code.

Wire layout (every byte counts: the goal is QR version <= 11 at ECC level Q, which holds 170
bytes of COSE; docs/wire-format.md explains each choice and its byte count):

* COSE_Sign1, *untagged* (RFC 9052 section 2: the `TP1:` prefix already says what follows),
  protected header `{1: -8, 4: kid}` where kid is the first 4 bytes of the issuer key's kid.
  Readers also take the first format: tag 18 and the full 8-byte kid.
* Payload: a CBOR map with integer keys. CWT (RFC 8392) keys where CWT defines the claim,
  negative private keys (one CBOR byte each) for the rest:

  ====  =================  ==========================================================
  key   claim              notes
  ====  =================  ==========================================================
  7     cti                pass id, 16 bytes
  6     iat                issued at, epoch seconds
  5     nbf                omitted when equal to iat (the usual case)
  4     exp                expires at, epoch seconds; written only when the validity
                           is not whole days (else -9)
  -9    validity days      exp = nbf + days * 86400
  -1    serial             index into the issuer key's status list
  -7    holder name        13-bit packed text (crypto/textpack.py) when every
                           character has a code; else -2
  -2    holder name        UTF-16-BE byte string or CBOR text, whichever is shorter
  -3    masked national    the city's form `A12*5*6*9*`; its 6 visible characters as
                           one base-36 integer when it has exactly that shape, else as
                           text (the first format sent the 6 characters as text);
                           never a clear ID (encode refuses one)
  -4    org id             an 8-digit id (統一編號) as an unsigned int, anything else as text
  -8    org name           13-bit packed text when possible; else -5
  -5    org name           UTF-16-BE or text, as -2
  -6    kind               omitted for "employee"; a small int for known kinds, else text
  ====  =================  ==========================================================

  The issuer kid is not repeated in the payload: the kid in the protected header is signed
  and is what verification looks keys up by, so it *is* the issuer kid claim. Four bytes of
  it are enough for a lookup: a verifier tries every key whose kid starts with them and
  still needs the signature to hold.
* Text: `TP1:` + Base45 (RFC 9285), entirely in the QR alphanumeric alphabet. No compression:
  for a payload this size zlib only adds bytes.

Decoding accepts both spellings of every claim, so passes printed before this layout keep
verifying (tests/crypto/vectors/ holds vectors of both).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
import qrcode
import qrcode.constants
import qrcode.util

from crypto.base45 import ALPHABET, b45decode, b45encode
from crypto.cose import Sign1, parse_sign1, sign1
from crypto.errors import CryptoError
from crypto.identity import is_valid_national_id
from crypto.keys import KID_BYTES, KeyPair
from crypto.textpack import pack, unpack

PASS_PREFIX = "TP1:"
# How many leading bytes of the issuer kid a pass carries (the first format carried all 8).
PASS_KID_BYTES = 4
PASS_ID_BYTES = 16
DEFAULT_KIND = "employee"

CLAIM_CTI = 7
CLAIM_IAT = 6
CLAIM_NBF = 5
CLAIM_EXP = 4
CLAIM_SERIAL = -1
CLAIM_HOLDER_NAME = -2
CLAIM_MASKED_NATIONAL_ID = -3
CLAIM_ORG_ID = -4
CLAIM_ORG_NAME = -5
CLAIM_KIND = -6
CLAIM_HOLDER_NAME_PACKED = -7
CLAIM_ORG_NAME_PACKED = -8
CLAIM_VALID_DAYS = -9
_DAY = 86_400
_MAX_VALID_DAYS = 65_535  # far beyond any pass; keeps the claim at most 3 bytes

# Known kinds travel as one byte; any other kind travels as its text.
_KIND_CODES = {"vehicle": 1, "visitor": 2, "official": 3}
_KIND_NAMES = {code: name for name, code in _KIND_CODES.items()}

# Longest pass text anyone should feed us: a version-40 QR holds 4296 alphanumeric characters.
MAX_PASS_TEXT = 4296
_MAX_TEXT_CLAIM = 200
_MAX_TIME = 2**40  # year 36812; keeps hostile integers out of arithmetic
_SHOWN_POSITIONS = (0, 1, 2, 4, 6, 8)  # the city's mask A12*5*6*9*
_MASKED_POSITIONS = (3, 5, 7, 9)


@dataclass(frozen=True)
class PassClaims:
    pass_id: bytes
    issuer_kid: bytes
    serial: int
    holder_name: str
    masked_national_id: str
    org_id: str
    org_name: str
    kind: str
    issued_at: int
    not_before: int
    expires_at: int


def _check_int(value: object, what: str, low: int = 0, high: int = _MAX_TIME) -> int:
    # type() rather than isinstance: bool is an int subclass, and this runs on every scan.
    if type(value) is not int or not low <= value <= high:
        raise CryptoError(f"{what} must be an integer in [{low}, {high}]")
    return value


def _check_text(value: object, what: str, *, allow_empty: bool = False) -> str:
    if type(value) is not str or (not value and not allow_empty) or len(value) > _MAX_TEXT_CLAIM:
        raise CryptoError(f"{what} must be text of 1..{_MAX_TEXT_CLAIM} characters")
    return value


def _validate(claims: PassClaims, *, encoding: bool) -> None:
    if not isinstance(claims.pass_id, bytes) or len(claims.pass_id) != PASS_ID_BYTES:
        raise CryptoError(f"pass id must be {PASS_ID_BYTES} bytes")
    # A decoded pass may name only the kid's first bytes; a pass being made needs the whole kid.
    shortest = KID_BYTES if encoding else PASS_KID_BYTES
    if not isinstance(claims.issuer_kid, bytes) or not shortest <= len(claims.issuer_kid) <= KID_BYTES:
        raise CryptoError(f"issuer kid must be {shortest}..{KID_BYTES} bytes")
    _check_int(claims.serial, "serial", 0, 2**32 - 1)
    _check_text(claims.holder_name, "holder name")
    masked = _check_text(claims.masked_national_id, "masked national id")
    # Privacy guard: a pass is shown to strangers, so a clear national ID must never get in.
    if encoding and ("*" not in masked or is_valid_national_id(masked.upper(), allow_old_resident=True)):
        raise CryptoError("masked national id must be masked (e.g. A12*5*6*9*)")
    _check_text(claims.org_id, "org id", allow_empty=True)
    _check_text(claims.org_name, "org name")
    _check_text(claims.kind, "kind")
    iat = _check_int(claims.issued_at, "issued_at")
    nbf = _check_int(claims.not_before, "not_before")
    exp = _check_int(claims.expires_at, "expires_at")
    if not (nbf < exp and iat < exp):
        raise CryptoError("expires_at must be after issued_at and not_before")


def _pack_text(text: str) -> str | bytes:
    try:
        utf16 = text.encode("utf-16-be")
        utf8 = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: not text any reader could show
        raise CryptoError("text claim is not valid Unicode") from exc
    return utf16 if len(utf16) < len(utf8) else text


def _unpack_text(value: object, what: str) -> str:
    if type(value) is bytes:
        if len(value) % 2:
            raise CryptoError(f"{what}: packed text has an odd length")
        try:
            return value.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise CryptoError(f"{what}: packed text is not UTF-16") from exc
    return _check_text(value, what, allow_empty=True)


def _is_seed_mask(masked: str) -> bool:
    return (
        len(masked) == 10
        and all(masked[i] == "*" for i in _MASKED_POSITIONS)
        and all(masked[i] != "*" for i in _SHOWN_POSITIONS)
    )


_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _pack_masked_id(masked: str) -> str | int:
    if not _is_seed_mask(masked):
        return masked
    shown = "".join(masked[i] for i in _SHOWN_POSITIONS)
    # Six base-36 digits fit a 4-byte CBOR integer: two bytes less than the six as text.
    return int(shown, 36) if all(c in _BASE36 for c in shown) else shown


def _unpack_masked_id(value: object) -> str:
    if type(value) is int:
        number = _check_int(value, "masked national id", 0, 36 ** len(_SHOWN_POSITIONS) - 1)
        digits = []
        for _ in _SHOWN_POSITIONS:
            number, digit = divmod(number, 36)
            digits.append(_BASE36[digit])
        value = "".join(reversed(digits))
    text = _check_text(value, "masked national id")
    if "*" in text:
        return text
    if len(text) != len(_SHOWN_POSITIONS):
        raise CryptoError("masked national id has neither the full nor the short form")
    return f"{text[0:3]}*{text[3]}*{text[4]}*{text[5]}*"  # back into the _SHOWN_POSITIONS


def _pack_org_id(org_id: str) -> str | int:
    return int(org_id) if len(org_id) == 8 and org_id.isascii() and org_id.isdigit() else org_id


def _unpack_org_id(value: object) -> str:
    if type(value) is int:
        return f"{_check_int(value, 'org id', 0, 99_999_999):08d}"
    return _check_text(value, "org id", allow_empty=True)


def _put_text(body: dict[int, Any], text: str, packed_key: int, plain_key: int) -> None:
    packed = pack(text)
    plain = _pack_text(text)
    plain_size = len(plain) if type(plain) is bytes else len(plain.encode("utf-8"))
    if packed is not None and len(packed) <= plain_size:
        body[packed_key] = packed
    else:
        body[plain_key] = plain


def _take_text(body: Mapping[Any, Any], packed_key: int, plain_key: int, what: str) -> str:
    if (packed_key in body) == (plain_key in body):
        raise CryptoError(f"pass payload needs exactly one {what} claim")
    if packed_key in body:
        return unpack(body[packed_key])
    return _unpack_text(body[plain_key], what)


def claims_to_cbor(claims: PassClaims) -> bytes:
    """The pass payload (CBOR map with integer keys) for `claims`."""
    _validate(claims, encoding=True)
    body: dict[int, Any] = {CLAIM_CTI: claims.pass_id, CLAIM_IAT: claims.issued_at}
    days, rest = divmod(claims.expires_at - claims.not_before, _DAY)
    if rest == 0 and days <= _MAX_VALID_DAYS:
        body[CLAIM_VALID_DAYS] = days
    else:
        body[CLAIM_EXP] = claims.expires_at
    body[CLAIM_SERIAL] = claims.serial
    _put_text(body, claims.holder_name, CLAIM_HOLDER_NAME_PACKED, CLAIM_HOLDER_NAME)
    body[CLAIM_MASKED_NATIONAL_ID] = _pack_masked_id(claims.masked_national_id)
    body[CLAIM_ORG_ID] = _pack_org_id(claims.org_id)
    _put_text(body, claims.org_name, CLAIM_ORG_NAME_PACKED, CLAIM_ORG_NAME)
    if claims.not_before != claims.issued_at:
        body[CLAIM_NBF] = claims.not_before
    if claims.kind != DEFAULT_KIND:
        body[CLAIM_KIND] = _KIND_CODES.get(claims.kind, claims.kind)
    return cbor2.dumps(body)


def claims_from_cbor(payload: bytes, issuer_kid: bytes) -> PassClaims:
    """Decode a pass payload; CryptoError unless every required claim is present and well typed."""
    try:
        body = cbor2.loads(payload)
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a pass"
        raise CryptoError("pass payload is not CBOR") from exc
    if type(body) is not dict and not isinstance(body, Mapping):
        raise CryptoError("pass payload must be a map")
    try:
        pass_id = body[CLAIM_CTI]
        iat = body[CLAIM_IAT]
        serial = body[CLAIM_SERIAL]
        masked = body[CLAIM_MASKED_NATIONAL_ID]
        org_id = body[CLAIM_ORG_ID]
    except (KeyError, TypeError) as exc:
        raise CryptoError("pass payload lacks a required claim") from exc
    nbf = body.get(CLAIM_NBF, iat)
    if (CLAIM_EXP in body) == (CLAIM_VALID_DAYS in body):
        raise CryptoError("pass payload needs exactly one of exp and validity days")
    if CLAIM_EXP in body:
        exp = body[CLAIM_EXP]
    else:
        days = _check_int(body[CLAIM_VALID_DAYS], "validity days", 1, _MAX_VALID_DAYS)
        exp = _check_int(nbf, "not_before") + days * _DAY
    kind_value = body.get(CLAIM_KIND, DEFAULT_KIND)
    if type(kind_value) is int:
        if kind_value not in _KIND_NAMES:
            raise CryptoError(f"unknown pass kind code {kind_value}")
        kind = _KIND_NAMES[kind_value]
    else:
        kind = kind_value
    claims = PassClaims(
        pass_id=pass_id,
        issuer_kid=issuer_kid,
        serial=serial,
        holder_name=_take_text(body, CLAIM_HOLDER_NAME_PACKED, CLAIM_HOLDER_NAME, "holder name"),
        masked_national_id=_unpack_masked_id(masked),
        org_id=_unpack_org_id(org_id),
        org_name=_take_text(body, CLAIM_ORG_NAME_PACKED, CLAIM_ORG_NAME, "org name"),
        kind=kind,
        issued_at=iat,
        not_before=nbf,
        expires_at=exp,
    )
    _validate(claims, encoding=False)
    return claims


def encode_pass(claims: PassClaims, key: KeyPair) -> str:
    """Sign `claims` with `key` and return the pass text: "TP1:" + Base45(COSE_Sign1)."""
    if not isinstance(claims, PassClaims):
        raise CryptoError("claims must be PassClaims")
    if not isinstance(key, KeyPair):
        raise CryptoError("key must be a KeyPair")
    if claims.issuer_kid != key.kid:
        raise CryptoError("claims.issuer_kid is not the signing key's kid")
    cose = sign1(claims_to_cbor(claims), key, kid=key.kid[:PASS_KID_BYTES], tagged=False)
    return PASS_PREFIX + b45encode(cose)


def parse_pass_envelope(text: str) -> Sign1:
    """Strip the prefix, Base45-decode and parse the COSE_Sign1, without looking at the claims."""
    if not isinstance(text, str):
        raise CryptoError("pass text must be a string")
    if not text.startswith(PASS_PREFIX):
        raise CryptoError(f"not a Checkpass pass (no {PASS_PREFIX} prefix)")
    if len(text) > MAX_PASS_TEXT:
        raise CryptoError("pass text too long")
    return parse_sign1(b45decode(text[len(PASS_PREFIX) :]))


def decode_pass(text: str) -> tuple[Sign1, PassClaims]:
    """Decode a pass text into its COSE envelope and claims. Does NOT verify the signature."""
    msg = parse_pass_envelope(text)
    return msg, claims_from_cbor(msg.payload, msg.kid)


def _qr(text: str) -> qrcode.QRCode:
    if not isinstance(text, str) or not text:
        raise CryptoError("QR text must be a non-empty string")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4)
    if all(c in ALPHABET for c in text):
        # Pass texts are pure alphanumeric: one segment, 5.5 bits a character.
        qr.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        qr.add_data(text)
    qr.make(fit=True)
    return qr


def qr_version(text: str) -> int:
    """The QR version `pass_qr_png` uses for `text` (ECC level Q)."""
    return int(_qr(text).version)


def pass_qr_png(text: str, box_size: int = 8) -> bytes:
    """A PNG of the QR code for `text`: ECC level Q, 4-module quiet zone."""
    if not isinstance(box_size, int) or not 1 <= box_size <= 64:
        raise CryptoError("box_size must be 1..64")
    qr = _qr(text)
    qr.box_size = box_size
    out = io.BytesIO()
    qr.make_image().save(out, format="PNG")
    return out.getvalue()
