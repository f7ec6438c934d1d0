"""Keyed hashing and encryption of personal data, all keyed by the hub secret.

Separate subkeys for each use (BLAKE2b keyed derivation), so a leak of one derived value never helps
with another: OTP hashes, national-ID lookup hashes, national-ID encryption and the keys of the login
throttle (a mobile number or a client address, which the throttle table must not hold in clear).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.secret
import nacl.utils

from hub.core.config import Settings

SECRET_FILE_NAME = "hub-secret"


def load_or_create_secret(settings: Settings, *, create: bool = False) -> bytes:
    """The hub secret: `HUB_SECRET_KEY`, else `<keys_dir>/hub-secret` (created by `hub init`)."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 16:
            raise ValueError("HUB_SECRET_KEY must be at least 16 characters")
        return value.encode()
    path = Path(settings.keys_dir) / SECRET_FILE_NAME
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        raise FileNotFoundError(f"no hub secret: set HUB_SECRET_KEY or run `checkpass hub init` ({path})")
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    path.touch(mode=0o600)
    path.write_bytes(value)
    return value


def _subkey(secret: bytes, purpose: str) -> bytes:
    return hashlib.blake2b(purpose.encode(), key=hashlib.sha256(secret).digest(), digest_size=32).digest()


@dataclass(frozen=True)
class Protector:
    """Everything that needs the hub secret, derived once per app."""

    otp_key: bytes
    lookup_key: bytes
    box: nacl.secret.SecretBox
    throttle_key: bytes
    form_key: bytes
    subject_key: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> Protector:
        return cls(
            otp_key=_subkey(secret, "checkpass/otp"),
            lookup_key=_subkey(secret, "checkpass/national-id-lookup"),
            box=nacl.secret.SecretBox(_subkey(secret, "checkpass/national-id-box")),
            throttle_key=_subkey(secret, "checkpass/login-throttle"),
            form_key=_subkey(secret, "checkpass/console-form-token"),
            subject_key=_subkey(secret, "checkpass/audit-subject"),
        )

    def otp_hash(self, mobile: str, purpose: str, code: str) -> str:
        message = f"{mobile}\x00{purpose}\x00{code}".encode()
        return hashlib.blake2b(message, key=self.otp_key, digest_size=32).hexdigest()

    def national_id_hash(self, national_id: str) -> str:
        return hashlib.blake2b(national_id.upper().encode(), key=self.lookup_key, digest_size=32).hexdigest()

    def throttle_hash(self, *parts: str) -> str:
        """The login throttle's key for a mobile, an address or both (hub.services.login_throttle)."""
        message = "\x00".join(parts).encode()
        return hashlib.blake2b(message, key=self.throttle_key, digest_size=32).hexdigest()

    def new_form_token(self) -> str:
        """A form token for the console's pages before login: random, with the hub's keyed MAC, so the
        hub can tell a token it issued from one planted in the browser (hub.console.web)."""
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._form_mac(nonce)}"

    def issued_form_token(self, token: str) -> bool:
        nonce, _, mac = token.partition(".")
        return bool(nonce) and len(token) <= 128 and hmac.compare_digest(mac, self._form_mac(nonce))

    def _form_mac(self, nonce: str) -> str:
        return hashlib.blake2b(nonce.encode(), key=self.form_key, digest_size=16).hexdigest()

    def subject_hash(self, mobile: str) -> str:
        """Who a personal-data read concerned, as the audit log keeps it: a keyed hash of the person's
        mobile (E.164), never the mobile itself (hub.services.audit.record, hub.services.data_reads).
        64 bits: unique among a city's people, short enough for a register of thousands in one event."""
        return hashlib.blake2b(mobile.encode(), key=self.subject_key, digest_size=8).hexdigest()

    def encrypt(self, text: str) -> bytes:
        return bytes(self.box.encrypt(text.encode()))

    def decrypt(self, blob: bytes) -> str:
        try:
            return self.box.decrypt(blob).decode()
        except nacl.exceptions.CryptoError as exc:
            raise ValueError("cannot decrypt: wrong hub secret or damaged data") from exc

    @staticmethod
    def equal(a: str, b: str) -> bool:
        return hmac.compare_digest(a, b)


def token_hash(token: str) -> str:
    """Bearer tokens are high-entropy random strings, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()
