"""The trust bundle: which issuer keys a verifier should accept, signed by the offline root key.

A checkpoint pins the root public key at enrolment and from then on accepts issuer keys only
through a bundle that root signed. Each bundle says how long it should be trusted
(`valid_until`) and the hub's clock when it was made (`hub_time`), so a device with a bad clock
can still tell how old its data is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from crypto.cose import open_document, parse_sign1, sign_document
from crypto.errors import CryptoError
from crypto.keys import KID_BYTES, PUBLIC_KEY_BYTES, KeyPair, kid_of

DOC_TYPE = "trust"
FORMAT_VERSION = 1


class KeyState(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"  # no longer signs; what it signed before not_after still verifies
    COMPROMISED = "compromised"  # nothing it signed is accepted: a thief can back-date iat


@dataclass(frozen=True)
class IssuerKeyInfo:
    kid: bytes
    public_key: bytes
    state: KeyState
    not_before: int
    # Retired or compromised since (epoch s); passes with iat >= not_after are refused.
    not_after: int | None
    status_counter: int  # counter of its status list when the bundle was made


@dataclass(frozen=True)
class TrustBundle:
    issuer_keys: tuple[IssuerKeyInfo, ...]
    issued_at: int
    valid_until: int
    hub_time: int
    root_kid: bytes
    _by_kid: dict[bytes, list[IssuerKeyInfo]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        # Index once: verify() looks keys up on every scan.
        index: dict[bytes, list[IssuerKeyInfo]] = {}
        for info in self.issuer_keys:
            index.setdefault(info.kid, []).append(info)
        object.__setattr__(self, "_by_kid", index)

    def keys_for(self, kid: bytes) -> list[IssuerKeyInfo]:
        """Every issuer key with this kid (normally one; a collision is tolerated, not trusted blindly).

        A shorter `kid` (a pass carries only the first bytes, crypto/passes.py) matches every key
        whose kid starts with it; the caller still needs a signature that holds.
        """
        if len(kid) >= KID_BYTES:
            return list(self._by_kid.get(kid, ()))
        return [info for info in self.issuer_keys if kid and info.kid.startswith(kid)]


def checked_int(value: object, what: str, *, optional: bool = False, doc: str = "trust bundle") -> Any:
    """`value` if it is a non-negative integer (or None when optional), else CryptoError naming `doc`."""
    if optional and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CryptoError(f"{doc}: {what} must be a non-negative integer")
    return value


def key_to_map(info: IssuerKeyInfo) -> dict[str, Any]:
    """An issuer key as the CBOR map the trust bundle (and the hub's bundle request) carry."""
    return {
        "kid": info.kid,
        "pub": info.public_key,
        "state": str(info.state),
        "nbf": info.not_before,
        "naf": info.not_after,
        "ctr": info.status_counter,
    }


def key_from_map(raw: object, doc: str = "trust bundle") -> IssuerKeyInfo:
    """The checked inverse of `key_to_map`; errors name `doc`, the document the entry came from."""
    if not isinstance(raw, Mapping):
        raise CryptoError(f"{doc}: issuer key entry must be a map")
    public_key = raw.get("pub")
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_BYTES:
        raise CryptoError(f"{doc}: bad issuer public key")
    kid = raw.get("kid")
    if kid != kid_of(public_key):
        raise CryptoError(f"{doc}: issuer kid does not match its public key")
    try:
        state = KeyState(raw.get("state"))
    except ValueError as exc:
        raise CryptoError(f"{doc}: unknown key state {raw.get('state')!r}") from exc
    return IssuerKeyInfo(
        kid=kid,
        public_key=public_key,
        state=state,
        not_before=checked_int(raw.get("nbf"), "nbf", doc=doc),
        not_after=checked_int(raw.get("naf"), "naf", optional=True, doc=doc),
        status_counter=checked_int(raw.get("ctr"), "ctr", doc=doc),
    )


def _check_bundle(bundle: TrustBundle) -> None:
    for what in ("issued_at", "valid_until", "hub_time"):
        checked_int(getattr(bundle, what), what)
    if bundle.valid_until < bundle.issued_at:
        raise CryptoError("trust bundle: valid_until before issued_at")
    if not isinstance(bundle.root_kid, bytes) or len(bundle.root_kid) != KID_BYTES:
        raise CryptoError("trust bundle: bad root kid")
    for info in bundle.issuer_keys:
        if not isinstance(info, IssuerKeyInfo):
            raise CryptoError("trust bundle: issuer_keys must hold IssuerKeyInfo")
        key_from_map(key_to_map(info))  # same checks as on load


def sign_trust_bundle(bundle: TrustBundle, root: KeyPair) -> bytes:
    """The bundle as a COSE_Sign1 signed by the root key."""
    if not isinstance(bundle, TrustBundle) or not isinstance(root, KeyPair):
        raise CryptoError("sign_trust_bundle needs a TrustBundle and the root KeyPair")
    if bundle.root_kid != root.kid:
        raise CryptoError("trust bundle: root_kid is not the signing key's kid")
    _check_bundle(bundle)
    return sign_document(
        {
            "typ": DOC_TYPE,
            "v": FORMAT_VERSION,
            "iat": bundle.issued_at,
            "until": bundle.valid_until,
            "hub_time": bundle.hub_time,
            "keys": [key_to_map(info) for info in bundle.issuer_keys],
        },
        root,
    )


def load_trust_bundle(data: bytes, root_public_key: bytes) -> TrustBundle:
    """Verify and decode a bundle; CryptoError unless the root key with `root_public_key` signed it."""
    root_kid = kid_of(root_public_key)
    if parse_sign1(data).kid != root_kid:
        raise CryptoError("trust bundle: signed by another key than the pinned root")
    body = open_document(data, root_public_key, DOC_TYPE)
    if body.get("v") != FORMAT_VERSION:
        raise CryptoError(f"trust bundle: unsupported version {body.get('v')!r}")
    keys = body.get("keys")
    if not isinstance(keys, list | tuple):
        raise CryptoError("trust bundle: keys must be an array")
    bundle = TrustBundle(
        issuer_keys=tuple(key_from_map(raw) for raw in keys),
        issued_at=checked_int(body.get("iat"), "iat"),
        valid_until=checked_int(body.get("until"), "until"),
        hub_time=checked_int(body.get("hub_time"), "hub_time"),
        root_kid=root_kid,
    )
    _check_bundle(bundle)
    return bundle
