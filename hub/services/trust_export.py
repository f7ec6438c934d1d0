"""The hub's trust data as one file for offline verification (`checkpass pass verify --bundle`).

The file is the trust export of provisioning.export: the bundle exactly as the hub serves it (signed by
the root key, on the hub or offline), the full status list of every issuer key that bundle lists and the
hub holds, and the root public key. The documents are the ones devices fetch from /trust/bundle and
/trust/status/{kid}, so a verdict from the file is the verdict a checkpoint would give with that data.
The reader pins the root key it already trusts (`--root-key`); the embedded copy is a convenience.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crypto.trust import load_trust_bundle
from hub.services import trust
from hub.services.keys import keystore
from provisioning.export import pack_export

EXPORT_FILENAME = "checkpass-trust.cbor"


def trust_export(db: Session) -> bytes:
    """The export file of the currently served trust data (see the module docstring)."""
    body, _issued_at = trust.trust_bundle(db)
    store = keystore(db)
    root_public = store.root_public_key()
    bundle = load_trust_bundle(body, root_public)
    held = {info.kid for info in store.issuers()}
    status = [
        trust.status_document(db, info.kid.hex(), None).body
        for info in bundle.issuer_keys
        if info.kid in held
    ]
    return pack_export(root_public, body, status)
