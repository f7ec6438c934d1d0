"""The trust export: one file with everything an offline verifier needs.

`checkpass bundle export` (a stand-alone key store), `checkpass hub bundle export` and the hub's
`GET /api/v1/trust/export` (a hub's trust data) write, and `checkpass pass verify --bundle` reads, a
CBOR map::

    {"format": "checkpass-trust-export-v1",
     "root_public_key": <32 bytes>,          # convenience copy; pin it with --root-key
     "bundle": <COSE_Sign1 trust bundle, signed by the root key>,
     "status": [<COSE_Sign1 status list, signed by its issuer key>, ...]}

The documents inside are exactly what the hub serves at /trust/bundle and /trust/status/{kid},
so a checkpoint can be loaded from this file or from the network the same way. The embedded
root key makes the file self-contained for a quick check; a verifier that got the file over an
untrusted channel must compare it with the root key it already trusts (`--root-key`, or the
fingerprint printed by `keys init`), since anyone can sign a bundle with a root key of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import cbor2

from crypto.cose import parse_sign1
from crypto.errors import CryptoError
from crypto.keys import KID_BYTES, PUBLIC_KEY_BYTES, KeyPair
from crypto.status import StatusList, load_status_list
from crypto.trust import (
    IssuerKeyInfo,
    TrustBundle,
    checked_int,
    key_from_map,
    key_to_map,
    load_trust_bundle,
    sign_trust_bundle,
)

EXPORT_FORMAT = "checkpass-trust-export-v1"


@dataclass(frozen=True)
class TrustExport:
    root_public_key: bytes
    bundle: TrustBundle
    status: dict[bytes, StatusList]


def build_export(root: KeyPair, bundle: TrustBundle, signed_status_lists: list[bytes]) -> bytes:
    """Sign `bundle` with `root` and pack it with the already signed status lists."""
    return pack_export(root.public_key, sign_trust_bundle(bundle, root), signed_status_lists)


def pack_export(root_public_key: bytes, signed_bundle: bytes, signed_status_lists: list[bytes]) -> bytes:
    """Pack documents that are already signed (a hub's served bundle and status lists) into an export.

    Nothing is checked here: `read_export` verifies everything against the root key the reader pins.
    """
    return cbor2.dumps(
        {
            "format": EXPORT_FORMAT,
            "root_public_key": root_public_key,
            "bundle": signed_bundle,
            "status": list(signed_status_lists),
        }
    )


def read_export(data: bytes, pinned_root: bytes | None = None) -> TrustExport:
    """Verify and unpack an export. With `pinned_root`, the embedded root key must be that key.

    CryptoError when the file is not an export, a signature fails, or the root does not match.
    """
    try:
        doc = cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not an export"
        raise CryptoError("not a Checkpass trust export") from exc
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise CryptoError("not a Checkpass trust export")
    root_public_key = doc.get("root_public_key")
    if not isinstance(root_public_key, bytes) or len(root_public_key) != PUBLIC_KEY_BYTES:
        raise CryptoError("trust export: bad root public key")
    if pinned_root is not None and root_public_key != pinned_root:
        raise CryptoError("trust export: signed by another root key than the pinned one")
    bundle_bytes = doc.get("bundle")
    status_docs = doc.get("status")
    if not isinstance(bundle_bytes, bytes) or not isinstance(status_docs, list):
        raise CryptoError("trust export: missing bundle or status lists")
    bundle = load_trust_bundle(bundle_bytes, root_public_key)
    status: dict[bytes, StatusList] = {}
    for raw in status_docs:
        if not isinstance(raw, bytes):
            raise CryptoError("trust export: status list must be bytes")
        sl = _load_for_any_key(raw, bundle)
        status[sl.issuer_kid] = sl
    return TrustExport(root_public_key=root_public_key, bundle=bundle, status=status)


def _load_for_any_key(raw: bytes, bundle: TrustBundle) -> StatusList:
    """A status list is trusted only under an issuer key the (root-verified) bundle lists."""
    kid = parse_sign1(raw).kid
    for info in bundle.keys_for(kid):
        try:
            return load_status_list(raw, info.public_key)
        except CryptoError:
            continue
    raise CryptoError(f"trust export: status list {kid.hex()} is not signed by a key in the bundle")


# ---- bundle requests: the hub's side of the offline-root ceremony ------------------------------
# A hub whose root key is offline cannot sign its own bundle. It writes a *bundle request* instead:
# the unsigned list of its issuer keys (public keys, states, status counters), like a CSR. The
# operator carries it to the offline machine, `checkpass bundle sign` checks it and signs it with
# the root key into an export file, and the hub imports that file. Issuer private keys never leave
# the hub and the root private key never reaches it.
REQUEST_FORMAT = "checkpass-bundle-request-v1"

REQUEST_DOC = "bundle request"  # how errors name the document


@dataclass(frozen=True)
class BundleRequest:
    root_kid: bytes
    issuer_keys: tuple[IssuerKeyInfo, ...]
    made_at: int  # the hub's clock when it wrote the request
    valid_days: int  # what the hub suggests; the signer may choose otherwise
    hub: str  # the hub's base URL, shown to the operator before signing


def build_request(request: BundleRequest) -> bytes:
    return cbor2.dumps(
        {
            "format": REQUEST_FORMAT,
            "root_kid": request.root_kid,
            "made_at": request.made_at,
            "valid_days": request.valid_days,
            "hub": request.hub,
            "keys": [key_to_map(info) for info in request.issuer_keys],
        }
    )


def read_request(data: bytes) -> BundleRequest:
    """Decode and check a bundle request (it is unsigned: the operator reviews what it lists)."""
    try:
        doc = cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a request"
        raise CryptoError("not a Checkpass bundle request") from exc
    if not isinstance(doc, dict) or doc.get("format") != REQUEST_FORMAT:
        raise CryptoError("not a Checkpass bundle request")
    root_kid = doc.get("root_kid")
    keys = doc.get("keys")
    hub = doc.get("hub", "")
    if not isinstance(root_kid, bytes) or len(root_kid) != KID_BYTES:
        raise CryptoError("bundle request: bad root kid")
    if not isinstance(keys, list) or not keys:
        raise CryptoError("bundle request: no issuer keys")
    if not isinstance(hub, str):
        raise CryptoError("bundle request: hub must be text")
    return BundleRequest(
        root_kid=root_kid,
        issuer_keys=tuple(key_from_map(raw, REQUEST_DOC) for raw in keys),
        made_at=checked_int(doc.get("made_at"), "made_at", doc=REQUEST_DOC),
        valid_days=checked_int(doc.get("valid_days"), "valid_days", doc=REQUEST_DOC),
        hub=hub,
    )


def bundle_from_request(request: BundleRequest, root: KeyPair, now: int, valid_days: int) -> TrustBundle:
    """The bundle the root signs for `request`: its keys as listed, valid `valid_days` from `now`."""
    if request.root_kid != root.kid:
        raise CryptoError(
            f"bundle request is for root key {request.root_kid.hex()}, this store's root is {root.kid.hex()}"
        )
    return TrustBundle(
        issuer_keys=request.issuer_keys,
        issued_at=now,
        valid_until=now + valid_days * 86_400,
        hub_time=now,
        root_kid=root.kid,
    )


def export_bundle_bytes(data: bytes) -> bytes:
    """The COSE bundle inside `data`: an export file (`bundle export`/`bundle sign`) or a bare bundle.

    Nothing is verified here; the caller checks the signature against the root key it trusts.
    """
    try:
        doc = cbor2.loads(data)
    except Exception:  # noqa: BLE001 - not CBOR at all: let the signature check say so
        return data
    if isinstance(doc, dict) and doc.get("format") == EXPORT_FORMAT and isinstance(doc.get("bundle"), bytes):
        return doc["bundle"]
    return data
