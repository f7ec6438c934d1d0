"""The key store: root key, issuer keys and their status lists, as files in one directory.

Layout (every file 0600, the directory 0700)::

    root.key                 root private key, passphrase-encrypted (crypto.keys.encrypt_private_key)
    root.pub                 root public key, base64 of the raw 32 bytes (safe to hand out; pinned by devices)
    issuers/<kid hex>.key    issuer private keys, passphrase-encrypted
    keystore.json            key states, validity, serial counters, which issuer key is active
    status/<kid hex>.bin     each issuer key's status list, signed by that key (ready to publish)
    passes.jsonl             passes issued from this store: pass id, kid, serial, dates (masked data only)

One passphrase opens every private key. Decrypted keys are cached per KeyStore object (each
decryption costs an argon2id derivation); states and counters are re-read from disk each time,
under an advisory lock, so several processes can share a store.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto.errors import CryptoError
from crypto.keys import KeyPair, decrypt_private_key, encrypt_private_key
from crypto.passes import PassClaims
from crypto.status import StatusList, load_status_list, sign_status_list
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle
from provisioning.files import append_private, locked, write_private

FORMAT = "checkpass-keystore-v1"
# A fresh list covers this many serials up front; it grows on demand (see crypto.status).
INITIAL_STATUS_SIZE = 1024


# A hub allocates serials and keeps revocations in its database, not in keystore.json and status/, so
# the offline pass commands must not run on its store. `checkpass hub init` leaves hub-secret here
# (unless HUB_SECRET_KEY is set) and `checkpass hub keys rotate` a pending/ folder; a hub may also
# record itself in keystore.json with `mark_managed_by_hub()`.
HUB_MARKER_FILES = ("hub-secret", "pending")
MANAGED_BY_HUB = "hub"


class KeyStoreError(ValueError):
    """The store is missing, already exists, or has no such key."""


@dataclass(frozen=True)
class IssuedPass:
    """One line of passes.jsonl: enough to revoke a pass by its id, nothing personal in clear."""

    pass_id: str  # hex
    kid: str  # hex
    serial: int
    issued_at: int
    expires_at: int
    holder_masked: str
    org_name: str
    kind: str


class KeyStore:
    def __init__(self, directory: Path | str, passphrase: str, *, clock: Callable[[], float] = time.time):
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._clock = clock
        self._keys: dict[bytes, KeyPair] = {}  # kid -> decrypted key
        self._root: KeyPair | None = None

    # ---- paths and metadata -------------------------------------------------------------------
    @property
    def _meta_path(self) -> Path:
        return self.directory / "keystore.json"

    def _issuer_path(self, kid: bytes) -> Path:
        return self.directory / "issuers" / f"{kid.hex()}.key"

    def _status_path(self, kid: bytes) -> Path:
        return self.directory / "status" / f"{kid.hex()}.bin"

    def _lock(self) -> Any:
        return locked(self.directory / ".lock")

    def _now(self) -> int:
        return int(self._clock())

    def exists(self) -> bool:
        return self._meta_path.exists()

    def _read_meta(self) -> dict[str, Any]:
        try:
            meta = json.loads(self._meta_path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise KeyStoreError(f"no key store in {self.directory} (run `checkpass keys init`)") from exc
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read {self._meta_path}: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise KeyStoreError(f"{self._meta_path} is not a Checkpass key store")
        return meta

    def _write_meta(self, meta: dict[str, Any]) -> None:
        write_private(self._meta_path, json.dumps(meta, indent=2, sort_keys=True).encode("utf-8"))

    def _issuer_entry(self, meta: dict[str, Any], kid: bytes) -> dict[str, Any]:
        for entry in meta["issuers"]:
            if entry["kid"] == kid.hex():
                return entry
        raise KeyStoreError(f"no issuer key {kid.hex()} in this store")

    # ---- creation -----------------------------------------------------------------------------
    def init(self) -> None:
        """Create the root key and the first issuer key. Refuses to overwrite an existing store."""
        if not isinstance(self._passphrase, str) or not self._passphrase:
            raise KeyStoreError("a non-empty passphrase is required")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock():
            if self.exists() or (self.directory / "root.key").exists():
                raise KeyStoreError(f"{self.directory} already holds a key store")
            # mkdir's mode applies only to a directory it creates; one made beforehand (a hub's
            # keys_dir, `mkdir keys`) would let anyone list the key files.
            os.chmod(self.directory, 0o700)
            root = KeyPair.generate()
            write_private(self.directory / "root.key", encrypt_private_key(root, self._passphrase))
            write_private(self.directory / "root.pub", base64.b64encode(root.public_key) + b"\n")
            meta: dict[str, Any] = {
                "format": FORMAT,
                "root": {"kid": root.kid.hex(), "created_at": self._now()},
                "active": None,
                "issuers": [],
            }
            self._root = root
            self._add_issuer(meta)
            self._write_meta(meta)

    def _add_issuer(self, meta: dict[str, Any]) -> KeyPair:
        key = KeyPair.generate()
        write_private(self._issuer_path(key.kid), encrypt_private_key(key, self._passphrase))
        sl = StatusList.empty(key.kid, INITIAL_STATUS_SIZE)
        write_private(self._status_path(key.kid), sign_status_list(sl, key))
        meta["issuers"].append(
            {
                "kid": key.kid.hex(),
                "public_key": base64.b64encode(key.public_key).decode("ascii"),
                "state": str(KeyState.ACTIVE),
                "not_before": self._now(),
                "not_after": None,
                "next_serial": 0,
            }
        )
        meta["active"] = key.kid.hex()
        self._keys[key.kid] = key
        return key

    # ---- keys ---------------------------------------------------------------------------------
    def managed_by_hub(self) -> bool:
        """True if a hub runs on this store (see HUB_MARKER_FILES): its serials and revocations live
        in the hub's database, so this store's own counters and status lists are not the truth."""
        if any((self.directory / name).exists() for name in HUB_MARKER_FILES):
            return True
        try:
            meta = json.loads(self._meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(meta, dict) and meta.get("managed_by") == MANAGED_BY_HUB

    def mark_managed_by_hub(self) -> None:
        """Record in keystore.json that a hub runs on this store (no passphrase needed)."""
        with self._lock():
            meta = self._read_meta()
            if meta.get("managed_by") != MANAGED_BY_HUB:
                meta["managed_by"] = MANAGED_BY_HUB
                self._write_meta(meta)

    def root_public_key(self) -> bytes:
        """The root public key, read from root.pub (no passphrase needed)."""
        try:
            raw = base64.b64decode((self.directory / "root.pub").read_bytes().strip(), validate=True)
        except FileNotFoundError as exc:
            raise KeyStoreError(f"no key store in {self.directory} (run `checkpass keys init`)") from exc
        except ValueError as exc:
            raise KeyStoreError("root.pub is damaged") from exc
        return raw

    def root(self) -> KeyPair:
        """The decrypted root key. CryptoError on a wrong passphrase."""
        if self._root is None:
            try:
                blob = (self.directory / "root.key").read_bytes()
            except FileNotFoundError as exc:
                if self.exists():
                    # A hub's copy of an offline root's store: `keys init` would be the wrong advice.
                    raise KeyStoreError(
                        f"{self.directory} holds no root private key (root.key): its root is offline. "
                        "Sign on the machine that holds it: `checkpass bundle sign --keys ROOT ...`"
                    ) from exc
                raise KeyStoreError(f"no key store in {self.directory} (run `checkpass keys init`)") from exc
            self._root = decrypt_private_key(blob, self._passphrase)
        return self._root

    def issuer(self, kid: bytes) -> KeyPair:
        """The decrypted issuer key `kid`. CryptoError on a wrong passphrase."""
        key = self._keys.get(kid)
        if key is None:
            try:
                blob = self._issuer_path(kid).read_bytes()
            except FileNotFoundError as exc:
                raise KeyStoreError(f"no issuer key {kid.hex()} in this store") from exc
            key = decrypt_private_key(blob, self._passphrase)
            if key.kid != kid:
                raise KeyStoreError(f"issuer key file {kid.hex()} holds another key")
            self._keys[kid] = key
        return key

    def active_kid(self) -> bytes:
        active = self._read_meta().get("active")
        if not active:
            raise KeyStoreError("no active issuer key (run `checkpass keys rotate`)")
        return bytes.fromhex(active)

    def active_issuer(self) -> KeyPair:
        return self.issuer(self.active_kid())

    def issuers(self) -> list[IssuerKeyInfo]:
        """Every issuer key with its state, validity and current status-list counter."""
        meta = self._read_meta()
        out = []
        for entry in meta["issuers"]:
            kid = bytes.fromhex(entry["kid"])
            public_key = base64.b64decode(entry["public_key"])
            out.append(
                IssuerKeyInfo(
                    kid=kid,
                    public_key=public_key,
                    state=KeyState(entry["state"]),
                    not_before=entry["not_before"],
                    not_after=entry["not_after"],
                    status_counter=self._load_status(kid, public_key, entry).counter,
                )
            )
        return out

    def rotate(self) -> KeyPair:
        """A new active issuer key; the old one is retired: what it signed until now still verifies."""
        self.root()  # proves the passphrase before a new key is encrypted under it
        with self._lock():
            meta = self._read_meta()
            if meta.get("active"):
                old = self._issuer_entry(meta, bytes.fromhex(meta["active"]))
                self.issuer(bytes.fromhex(old["kid"]))  # and that it opens the issuer keys
                old["state"] = str(KeyState.RETIRED)
                # +1: a pass signed earlier in this same second keeps verifying (iat < not_after).
                old["not_after"] = self._now() + 1
            key = self._add_issuer(meta)
            self._write_meta(meta)
            return key

    def mark_compromised(self, kid: bytes) -> None:
        """Refuse everything `kid` ever signed. If it was the active key, a new one takes over."""
        self.root()
        with self._lock():
            meta = self._read_meta()
            entry = self._issuer_entry(meta, kid)
            entry["state"] = str(KeyState.COMPROMISED)
            if entry["not_after"] is None:
                entry["not_after"] = self._now()
            if meta.get("active") == entry["kid"]:
                meta["active"] = None
                self._add_issuer(meta)
            self._write_meta(meta)

    # ---- trust bundle and status lists --------------------------------------------------------
    def trust_bundle(self, valid_days: int = 7) -> TrustBundle:
        """A bundle of every issuer key, valid for `valid_days` from now (sign it with root())."""
        if not isinstance(valid_days, int) or valid_days <= 0:
            raise KeyStoreError("valid_days must be a positive number of days")
        now = self._now()
        meta = self._read_meta()
        return TrustBundle(
            issuer_keys=tuple(self.issuers()),
            issued_at=now,
            valid_until=now + valid_days * 86_400,
            hub_time=now,
            root_kid=bytes.fromhex(meta["root"]["kid"]),
        )

    def _load_status(self, kid: bytes, public_key: bytes, entry: dict[str, Any]) -> StatusList:
        try:
            data = self._status_path(kid).read_bytes()
        except FileNotFoundError:
            return StatusList.empty(kid, max(INITIAL_STATUS_SIZE, entry["next_serial"]))
        try:
            return load_status_list(data, public_key)
        except CryptoError as exc:
            raise KeyStoreError(f"status list of {kid.hex()} is damaged: {exc}") from exc

    def status_list(self, kid: bytes) -> StatusList:
        meta = self._read_meta()
        entry = self._issuer_entry(meta, kid)
        return self._load_status(kid, base64.b64decode(entry["public_key"]), entry)

    def signed_status_list(self, kid: bytes) -> bytes:
        """The status list of `kid` as published: COSE, signed by that issuer key."""
        self._issuer_entry(self._read_meta(), kid)
        try:
            return self._status_path(kid).read_bytes()
        except FileNotFoundError:
            return sign_status_list(self.status_list(kid), self.issuer(kid))

    def revoke(self, kid: bytes, serial: int) -> StatusList:
        """Revoke `serial` of issuer key `kid` and store the list; returns it.

        Only serials this store issued: a typo must not grow the list by megabytes.
        """
        key = self.issuer(kid)
        with self._lock():
            issued = self.issued_count(kid)
            if not 0 <= serial < issued:
                raise KeyStoreError(f"serial {serial} was never issued by key {kid.hex()} ({issued} issued)")
            sl = self.status_list(kid)
            sl.revoke(serial)
            write_private(self._status_path(kid), sign_status_list(sl, key))
            return sl

    def issued_count(self, kid: bytes) -> int:
        """How many serials of issuer key `kid` were allocated (the next one to hand out)."""
        return int(self._issuer_entry(self._read_meta(), kid)["next_serial"])

    def next_serial(self, kid: bytes) -> int:
        """Allocate the next unused serial of issuer key `kid`."""
        with self._lock():
            meta = self._read_meta()
            entry = self._issuer_entry(meta, kid)
            serial = int(entry["next_serial"])
            entry["next_serial"] = serial + 1
            self._write_meta(meta)
            return serial

    # ---- issued passes ------------------------------------------------------------------------
    @property
    def _passes_path(self) -> Path:
        return self.directory / "passes.jsonl"

    def record_pass(self, claims: PassClaims) -> None:
        """Remember an issued pass (so it can be revoked by id). Masked data only."""
        from crypto.identity import mask_name

        record = IssuedPass(
            pass_id=claims.pass_id.hex(),
            kid=claims.issuer_kid.hex(),
            serial=claims.serial,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
            holder_masked=mask_name(claims.holder_name),
            org_name=claims.org_name,
            kind=claims.kind,
        )
        line = json.dumps(record.__dict__, ensure_ascii=False).encode("utf-8") + b"\n"
        with self._lock():
            append_private(self._passes_path, line)

    def issued_passes(self) -> list[IssuedPass]:
        try:
            lines = self._passes_path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [IssuedPass(**json.loads(line)) for line in lines if line.strip()]

    def find_pass(self, pass_id: bytes) -> IssuedPass:
        for record in self.issued_passes():
            if record.pass_id == pass_id.hex():
                return record
        raise KeyStoreError(f"no pass {pass_id.hex()} issued from this store")
