import cbor2
import pytest

from crypto.errors import CryptoError
from crypto.keys import KeyPair
from crypto.status import StatusList, sign_status_list
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle
from provisioning.export import build_export, read_export

NOW = 1_764_000_000
ROOT = KeyPair.from_seed(b"r" * 32)
ISSUER = KeyPair.from_seed(b"i" * 32)


def _bundle() -> TrustBundle:
    info = IssuerKeyInfo(ISSUER.kid, ISSUER.public_key, KeyState.ACTIVE, NOW, None, 1)
    return TrustBundle((info,), NOW, NOW + 86_400, NOW, ROOT.kid)


def _status(key: KeyPair = ISSUER) -> bytes:
    sl = StatusList.empty(key.kid, 16)
    sl.revoke(3)
    return sign_status_list(sl, key)


def test_round_trip():
    export = read_export(build_export(ROOT, _bundle(), [_status()]), pinned_root=ROOT.public_key)
    assert export.bundle == _bundle()
    assert export.status[ISSUER.kid].is_revoked(3)
    assert export.root_public_key == ROOT.public_key


def test_pinned_root_mismatch_refused():
    with pytest.raises(CryptoError, match="another root"):
        read_export(build_export(ROOT, _bundle(), [_status()]), pinned_root=KeyPair.generate().public_key)


def test_status_list_of_a_key_outside_the_bundle_refused():
    stranger = KeyPair.from_seed(b"s" * 32)
    with pytest.raises(CryptoError, match="not signed by a key in the bundle"):
        read_export(build_export(ROOT, _bundle(), [_status(stranger)]))


def test_swapped_root_key_cannot_validate_the_bundle():
    doc = cbor2.loads(build_export(ROOT, _bundle(), [_status()]))
    doc["root_public_key"] = KeyPair.generate().public_key
    with pytest.raises(CryptoError):
        read_export(cbor2.dumps(doc))


@pytest.mark.parametrize("data", [b"", b"junk", cbor2.dumps({"format": "other"}), cbor2.dumps([1, 2])])
def test_not_an_export(data):
    with pytest.raises(CryptoError):
        read_export(data)
