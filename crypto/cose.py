"""COSE_Sign1 (RFC 9052) with EdDSA, the envelope of every signed Checkpass document.

Written as a tagged (18) array with alg -8 (EdDSA) and the signer's kid in the protected
header, an empty unprotected header; passes leave out the tag and shorten the kid (their
prefix says what they are, crypto/passes.py). Read side is lenient where RFC 9052 allows it: the tag
is optional, alg -19 (Ed25519, RFC 9864) is accepted as well, and a kid found only in the
unprotected header is used as a lookup hint (the signature still has to hold under a key
that has exactly that kid, so an unprotected kid cannot redirect verification).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from crypto.errors import CryptoError
from crypto.keys import KeyPair, verify_signature

COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
ALG_ED25519 = -19
ACCEPTED_ALGS = frozenset({ALG_EDDSA, ALG_ED25519})

HEADER_ALG = 1
HEADER_CONTENT_TYPE = 3
HEADER_KID = 4

# cbor2 6 gives dict at top level and cbor2.frozendict inside tags; checking these concrete
# types first is much cheaper than the Mapping ABC on the verify hot path.
_MAPS = (dict, cbor2.frozendict, Mapping)

# Nothing Checkpass signs comes near this; refusing early keeps a hostile input cheap.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


def _bstr_head(length: int) -> bytes:
    """CBOR major type 2 (byte string) head for `length`, in the shortest form (RFC 8949 4.2.1)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    if length < 0x1_0000_0000:
        return b"\x5a" + length.to_bytes(4, "big")
    return b"\x5b" + length.to_bytes(8, "big")


# Array of 4, text "Signature1": the fixed start of every Sig_structure (RFC 9052 section 4.4).
_SIG_STRUCTURE_HEAD = b"\x84\x6aSignature1"


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    """CBOR of ["Signature1", protected, h'', payload], joined by hand: it is on the verify hot path."""
    head = _SIG_STRUCTURE_HEAD + _bstr_head(len(protected))
    return b"".join((head, protected, b"\x40", _bstr_head(len(payload)), payload))


def sign1(
    payload: bytes,
    key: KeyPair,
    content_type: str | None = None,
    *,
    kid: bytes | None = None,
    tagged: bool = True,
) -> bytes:
    """Sign `payload` into a COSE_Sign1 with alg -8 and `kid` (default `key.kid`) protected.

    Passes use a shortened kid and no tag (crypto/passes.py); every other document the defaults.
    """
    if not isinstance(payload, bytes | bytearray):
        raise CryptoError("payload must be bytes")
    if not isinstance(key, KeyPair):
        raise CryptoError("key must be a KeyPair")
    if kid is None:
        kid = key.kid
    elif not isinstance(kid, bytes) or not kid or not key.kid.startswith(kid):
        raise CryptoError("kid must be a non-empty prefix of the key's kid")
    header: dict[int, Any] = {HEADER_ALG: ALG_EDDSA, HEADER_KID: kid}
    if content_type is not None:
        header[HEADER_CONTENT_TYPE] = content_type
    protected = cbor2.dumps(header)
    payload = bytes(payload)
    signature = key.sign(_sig_structure(protected, payload))
    message = [protected, {}, payload, signature]
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, message) if tagged else message)


@dataclass(frozen=True)
class Sign1:
    """A parsed (not yet verified) COSE_Sign1."""

    alg: int
    kid: bytes
    payload: bytes
    signature: bytes
    to_be_signed: bytes
    protected: dict[Any, Any]


def parse_sign1(data: bytes) -> Sign1:
    """Parse a COSE_Sign1 (tag 18 optional). CryptoError if it is not one; the signature is NOT checked."""
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CryptoError("COSE data must be bytes")
        data = bytes(data)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CryptoError("COSE document too large")
    try:
        obj = cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - every decoder failure is "not CBOR"
        raise CryptoError("not CBOR") from exc
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != COSE_SIGN1_TAG:
            raise CryptoError(f"CBOR tag {obj.tag} is not COSE_Sign1")
        obj = obj.value
    # cbor2 6 returns arrays inside tags as tuples and maps as frozendicts.
    if not isinstance(obj, list | tuple) or len(obj) != 4:
        raise CryptoError("COSE_Sign1 must be an array of 4")
    protected_bytes, unprotected, payload, signature = obj
    if type(protected_bytes) is not bytes:
        raise CryptoError("protected header must be a byte string")
    if not isinstance(unprotected, _MAPS):
        raise CryptoError("unprotected header must be a map")
    if type(payload) is not bytes:
        raise CryptoError("payload must be attached (a byte string)")
    if type(signature) is not bytes:
        raise CryptoError("signature must be a byte string")
    if protected_bytes:
        try:
            protected = cbor2.loads(protected_bytes)
        except Exception as exc:  # noqa: BLE001
            raise CryptoError("protected header is not CBOR") from exc
        if not isinstance(protected, _MAPS):
            raise CryptoError("protected header must be a map")
    else:
        protected = {}
    alg = protected.get(HEADER_ALG)
    if type(alg) is not int or alg not in ACCEPTED_ALGS:  # type(): bool is an int too
        raise CryptoError(f"unsupported or unprotected alg {alg!r}")
    kid = protected.get(HEADER_KID, unprotected.get(HEADER_KID))
    if not isinstance(kid, bytes) or not kid:
        raise CryptoError("missing kid")
    return Sign1(
        alg=alg,
        kid=kid,
        payload=payload,
        signature=signature,
        to_be_signed=_sig_structure(protected_bytes, payload),
        protected=dict(protected),
    )


def verify_sign1(msg: Sign1, public_key: bytes) -> bool:
    """True when the COSE_Sign1's signature holds under `public_key` (alg -8 or -19). Never raises."""
    if not isinstance(msg, Sign1) or msg.alg not in ACCEPTED_ALGS:
        return False
    return verify_signature(public_key, msg.to_be_signed, msg.signature)


def sign_document(payload: Mapping[str, Any], key: KeyPair) -> bytes:
    """Sign a CBOR map (bundles, status lists, credentials) as a COSE_Sign1."""
    return sign1(cbor2.dumps(dict(payload)), key)


def open_document(data: bytes, public_key: bytes, doc_type: str) -> dict[str, Any]:
    """Parse, verify and decode a document signed by `sign_document`; its "typ" must be `doc_type`.

    The type check stops a validly signed document of one kind being replayed as another.
    """
    msg = parse_sign1(data)
    if not verify_sign1(msg, public_key):
        raise CryptoError(f"{doc_type}: signature does not hold under the given key")
    try:
        body = cbor2.loads(msg.payload)
    except Exception as exc:  # noqa: BLE001
        raise CryptoError(f"{doc_type}: payload is not CBOR") from exc
    if not isinstance(body, Mapping) or body.get("typ") != doc_type:
        raise CryptoError(f"not a {doc_type} document")
    return dict(body)
