"""The hub's key files: provisioning's KeyStore plus one *pending* issuer key.

With an offline root (hub.services.trust) the hub cannot run `KeyStore.rotate()`, which needs the
root key. It *prepares* a new issuer key instead: the key is made and stored encrypted under
`<keys_dir>/pending/`, the hub keeps signing with the current key, and the new key only becomes the
active one when a root-signed bundle that lists it is imported. Devices therefore never see a pass
signed by a key their bundle does not know.

Below the Session's context (hub.context opens the store once) and so below every service.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

from crypto.keys import KeyPair, decrypt_private_key, encrypt_private_key
from crypto.status import StatusList, sign_status_list
from crypto.trust import IssuerKeyInfo, KeyState
from hub.core.config import Settings
from hub.services.errors import Unavailable
from provisioning.files import write_private
from provisioning.keystore import INITIAL_STATUS_SIZE, KeyStore, KeyStoreError


class HubKeyStore(KeyStore):
    """A KeyStore that can also hold one *pending* issuer key (made on the hub, not yet in a bundle)."""

    @property
    def _pending_dir(self) -> Path:
        return self.directory / "pending"

    def pending_kid(self) -> bytes | None:
        """The kid of the prepared issuer key, if one waits for a bundle."""
        files = sorted(self._pending_dir.glob("*.key")) if self._pending_dir.is_dir() else []
        return bytes.fromhex(files[0].stem) if files else None

    def pending_key(self) -> KeyPair | None:
        kid = self.pending_kid()
        if kid is None:
            return None
        key = self._keys.get(kid)
        if key is None:
            key = decrypt_private_key((self._pending_dir / f"{kid.hex()}.key").read_bytes(), self._passphrase)
            if key.kid != kid:
                raise KeyStoreError(f"pending key file {kid.hex()} holds another key")
            self._keys[kid] = key
        return key

    def pending_info(self) -> IssuerKeyInfo | None:
        """The pending key as a bundle should list it: active from when it was made, counter 0."""
        key = self.pending_key()
        if key is None:
            return None
        made_at = int((self._pending_dir / f"{key.kid.hex()}.key").stat().st_mtime)
        return IssuerKeyInfo(key.kid, key.public_key, KeyState.ACTIVE, made_at, None, 0)

    def prepare_issuer(self) -> KeyPair:
        """Make the pending key (or return the one already waiting: one rotation at a time)."""
        self.active_issuer()  # proves the passphrase before a new key is encrypted under it
        with self._lock():
            existing = self.pending_key()
            if existing is not None:
                return existing
            key = KeyPair.generate()
            write_private(
                self._pending_dir / f"{key.kid.hex()}.key", encrypt_private_key(key, self._passphrase)
            )
            self._keys[key.kid] = key
            return key

    def activate_pending(self, kid: bytes, not_before: int) -> bool:
        """Make pending key `kid` the active issuer key (a bundle listing it was imported); the old
        one retires now: what it signed so far keeps verifying. False if `kid` is not pending."""
        with self._lock():
            if self.pending_kid() != kid:
                return False
            key = self.pending_key()
            assert key is not None
            meta = self._read_meta()
            if meta.get("active"):
                old = self._issuer_entry(meta, bytes.fromhex(meta["active"]))
                old["state"] = str(KeyState.RETIRED)
                # +1: a pass signed earlier in this same second keeps verifying (iat < not_after).
                old["not_after"] = self._now() + 1
            write_private(self._issuer_path(kid), encrypt_private_key(key, self._passphrase))
            write_private(
                self._status_path(kid), sign_status_list(StatusList.empty(kid, INITIAL_STATUS_SIZE), key)
            )
            meta["issuers"].append(
                {
                    "kid": kid.hex(),
                    "public_key": base64.b64encode(key.public_key).decode("ascii"),
                    "state": str(KeyState.ACTIVE),
                    "not_before": not_before,
                    "not_after": None,
                    "next_serial": 0,
                }
            )
            meta["active"] = kid.hex()
            self._write_meta(meta)
            (self._pending_dir / f"{kid.hex()}.key").unlink()
            return True


def open_keystore(settings: Settings) -> HubKeyStore:
    passphrase = settings.passphrase()
    if passphrase is None:
        raise Unavailable(reason="keys_locked", detail="no key passphrase configured (HUB_KEY_PASSPHRASE)")
    return HubKeyStore(settings.keys_dir, passphrase, clock=time.time)
