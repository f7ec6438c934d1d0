import base64
import stat

import pytest

from crypto.errors import CryptoError
from crypto.keys import kid_of
from crypto.trust import KeyState
from provisioning.keystore import KeyStore, KeyStoreError

PASSPHRASE = "correct horse battery"


class Clock:
    def __init__(self, now: int = 1_764_000_000):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> KeyStore:
    ks = KeyStore(tmp_path / "keys", PASSPHRASE, clock=clock)
    ks.init()
    return ks


def test_layout_and_permissions(store):
    d = store.directory
    kid = store.active_kid().hex()
    for name in ("root.key", "root.pub", "keystore.json", f"issuers/{kid}.key", f"status/{kid}.bin"):
        mode = stat.S_IMODE((d / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert stat.S_IMODE(d.stat().st_mode) & 0o077 == 0
    root_pub = base64.b64decode((d / "root.pub").read_bytes())
    assert root_pub == store.root().public_key
    assert store.root().seed not in (d / "root.key").read_bytes()


def test_reopen_with_passphrase(store):
    again = KeyStore(store.directory, PASSPHRASE)
    assert again.root() == store.root()
    assert again.active_issuer() == store.active_issuer()


def test_wrong_passphrase(store):
    with pytest.raises(CryptoError):
        KeyStore(store.directory, "nope").active_issuer()
    with pytest.raises(CryptoError):
        KeyStore(store.directory, "nope").rotate()
    assert len(KeyStore(store.directory, "x").issuers()) == 1  # nothing changed


def test_init_refuses_existing_store(store):
    with pytest.raises(KeyStoreError):
        KeyStore(store.directory, PASSPHRASE).init()


def test_missing_store(tmp_path):
    with pytest.raises(KeyStoreError):
        KeyStore(tmp_path, PASSPHRASE).active_issuer()


def test_serials_are_allocated_once(store):
    kid = store.active_kid()
    assert [store.next_serial(kid) for _ in range(3)] == [0, 1, 2]
    assert KeyStore(store.directory, PASSPHRASE).next_serial(kid) == 3


def test_rotate_retires_old_key(store, clock):
    old = store.active_issuer()
    clock.now += 100
    new = store.rotate()
    assert new.kid != old.kid and store.active_kid() == new.kid
    infos = {i.kid: i for i in store.issuers()}
    assert infos[old.kid].state is KeyState.RETIRED
    assert infos[old.kid].not_after == clock.now + 1
    assert infos[new.kid].state is KeyState.ACTIVE and infos[new.kid].not_after is None
    assert store.issuer(old.kid) == old  # still there to sign its status list


def test_mark_compromised_active_key_brings_a_new_one(store):
    old = store.active_kid()
    store.mark_compromised(old)
    infos = {i.kid: i for i in store.issuers()}
    assert infos[old].state is KeyState.COMPROMISED
    assert store.active_kid() != old


def test_revoke_and_status_counter_in_bundle(store):
    kid = store.active_kid()
    for _ in range(6):
        store.next_serial(kid)
    with pytest.raises(KeyStoreError, match="issued"):
        store.revoke(kid, 6)  # never issued
    assert store.status_list(kid).counter == 0
    store.revoke(kid, 5)
    store.revoke(kid, 5)
    sl = store.status_list(kid)
    assert sl.is_revoked(5) and sl.counter == 1
    bundle = store.trust_bundle(valid_days=3)
    assert bundle.issuer_keys[0].status_counter == 1
    assert bundle.valid_until - bundle.issued_at == 3 * 86_400
    assert bundle.root_kid == kid_of(store.root_public_key())


def test_unknown_issuer(store):
    with pytest.raises(KeyStoreError):
        store.issuer(b"\x00" * 8)
