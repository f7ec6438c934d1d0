"""Ed25519 key pairs, key ids, and passphrase-encrypted private keys.

A `kid` is the first 8 bytes of SHA-256 over the raw 32-byte public key: short enough for a
QR code, long enough that a collision is an accident rather than a design (and verifiers try
every key that shares a kid anyway).

Encrypted private keys are a small CBOR map that names its own KDF parameters, so the
parameters can be raised later without breaking old files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import cbor2
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from crypto.errors import CryptoError

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KID_BYTES = 8

_KEYFILE_FORMAT = "checkpass-key-v1"
# Interactive limits (64 MiB, 2 passes): a ceremony on a laptop stays under a second, while an
# offline guess still costs real memory. Stored in the blob, so they can be raised later and opening a
# file never depends on them; the test suite lowers them (tests/conftest.py): it opens keys in every test.
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def _require_bytes(value: object, length: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise CryptoError(f"{what} must be bytes, not {type(value).__name__}")
    value = bytes(value)
    if len(value) != length:
        raise CryptoError(f"{what} must be {length} bytes, got {len(value)}")
    return value


def kid_of(public_key: bytes) -> bytes:
    """The key id: first 8 bytes of SHA-256 of the raw 32-byte public key."""
    raw = _require_bytes(public_key, PUBLIC_KEY_BYTES, "public key")
    return hashlib.sha256(raw).digest()[:KID_BYTES]


@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 key pair, kept as its 32-byte seed (the private key) and derived public key."""

    seed: bytes = field(repr=False)
    public_key: bytes
    kid: bytes

    def __post_init__(self) -> None:
        seed = _require_bytes(self.seed, SEED_BYTES, "seed")
        public = _require_bytes(self.public_key, PUBLIC_KEY_BYTES, "public key")
        derived = bytes(nacl.signing.SigningKey(seed).verify_key)
        if derived != public:
            raise CryptoError("public key does not belong to the seed")
        if self.kid != kid_of(public):
            raise CryptoError("kid does not match the public key")

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_seed(nacl.utils.random(SEED_BYTES))

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        seed = _require_bytes(seed, SEED_BYTES, "seed")
        public = bytes(nacl.signing.SigningKey(seed).verify_key)
        return cls(seed=seed, public_key=public, kid=kid_of(public))

    def sign(self, message: bytes) -> bytes:
        """A 64-byte detached Ed25519 signature over `message`."""
        if not isinstance(message, bytes | bytearray | memoryview):
            raise CryptoError("message must be bytes")
        return nacl.signing.SigningKey(self.seed).sign(bytes(message)).signature


# Verify keys are cached by raw public key: building one costs a point decompression, and a
# checkpoint verifies thousands of passes against the same handful of issuer keys.
_VERIFY_KEYS: dict[bytes, nacl.signing.VerifyKey] = {}
_VERIFY_KEYS_MAX = 256


def _verify_key(public_key: bytes) -> nacl.signing.VerifyKey:
    key = _VERIFY_KEYS.get(public_key)
    if key is None:
        key = nacl.signing.VerifyKey(public_key)
        if len(_VERIFY_KEYS) >= _VERIFY_KEYS_MAX:
            _VERIFY_KEYS.clear()
        _VERIFY_KEYS[public_key] = key
    return key


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` by `public_key`. Never raises."""
    try:
        if (
            not isinstance(public_key, bytes)
            or len(public_key) != PUBLIC_KEY_BYTES
            or not isinstance(signature, bytes)
            or len(signature) != SIGNATURE_BYTES
            or not isinstance(message, bytes)
        ):
            return False
        _verify_key(public_key).verify(message, signature)
        return True
    except Exception:  # noqa: BLE001 - a verifier answers yes/no, whatever the input
        return False


def encrypt_private_key(key: KeyPair, passphrase: str) -> bytes:
    """Encrypt the seed under a passphrase (argon2id KDF + XSalsa20-Poly1305 SecretBox)."""
    if not isinstance(key, KeyPair):
        raise CryptoError("key must be a KeyPair")
    if not isinstance(passphrase, str) or not passphrase:
        raise CryptoError("passphrase must be a non-empty string")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    box_key = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=KDF_OPSLIMIT,
        memlimit=KDF_MEMLIMIT,
    )
    sealed = bytes(nacl.secret.SecretBox(box_key).encrypt(key.seed))
    return cbor2.dumps(
        {
            "format": _KEYFILE_FORMAT,
            "kdf": "argon2id",
            "opslimit": KDF_OPSLIMIT,
            "memlimit": KDF_MEMLIMIT,
            "salt": salt,
            "box": sealed,
            "kid": key.kid,
            "public_key": key.public_key,
        }
    )


def decrypt_private_key(blob: bytes, passphrase: str) -> KeyPair:
    """Open a blob from `encrypt_private_key`; CryptoError on a wrong passphrase or a damaged blob."""
    if not isinstance(passphrase, str):
        raise CryptoError("passphrase must be a string")
    try:
        doc = cbor2.loads(bytes(blob))
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a key file"
        raise CryptoError("not an encrypted key file") from exc
    if not isinstance(doc, dict) or doc.get("format") != _KEYFILE_FORMAT or doc.get("kdf") != "argon2id":
        raise CryptoError("not an encrypted key file")
    try:
        opslimit, memlimit, salt, sealed = doc["opslimit"], doc["memlimit"], doc["salt"], doc["box"]
        box_key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    except (KeyError, TypeError, ValueError, nacl.exceptions.CryptoError) as exc:
        raise CryptoError("damaged encrypted key file") from exc
    try:
        seed = nacl.secret.SecretBox(box_key).decrypt(sealed)
    except nacl.exceptions.CryptoError as exc:
        raise CryptoError("wrong passphrase (or a damaged key file)") from exc
    key = KeyPair.from_seed(seed)
    if doc.get("public_key") not in (None, key.public_key):
        raise CryptoError("key file's public key does not match its private key")
    return key
