from dataclasses import replace

import cbor2
import pytest

from crypto.cose import sign_document
from crypto.errors import CryptoError
from crypto.keys import KeyPair
from crypto.trust import KeyState, TrustBundle, load_trust_bundle, sign_trust_bundle
from tests.crypto.crypto_fixtures import NOW, issuer_info


def test_round_trip(trust, root):
    data = sign_trust_bundle(trust, root)
    assert load_trust_bundle(data, root.public_key) == trust


def test_keys_for_finds_every_key_with_the_kid(trust, issuer):
    assert [k.public_key for k in trust.keys_for(issuer.kid)] == [issuer.public_key]
    assert trust.keys_for(b"\x00" * 8) == []


def test_states_and_not_after_survive(root, issuer):
    other = KeyPair.from_seed(b"o" * 32)
    bundle = TrustBundle(
        (issuer_info(issuer, KeyState.RETIRED, NOW), issuer_info(other, KeyState.COMPROMISED, NOW - 5)),
        NOW,
        NOW + 10,
        NOW,
        root.kid,
    )
    loaded = load_trust_bundle(sign_trust_bundle(bundle, root), root.public_key)
    assert [(k.state, k.not_after) for k in loaded.issuer_keys] == [
        (KeyState.RETIRED, NOW),
        (KeyState.COMPROMISED, NOW - 5),
    ]


def test_other_root_refused(trust, root):
    data = sign_trust_bundle(trust, root)
    with pytest.raises(CryptoError):
        load_trust_bundle(data, KeyPair.generate().public_key)


def test_signed_by_issuer_instead_of_root_refused(trust, issuer, root):
    # Same payload, signed by a key that is not the pinned root.
    forged = sign_trust_bundle(replace(trust, root_kid=issuer.kid), issuer)
    with pytest.raises(CryptoError):
        load_trust_bundle(forged, root.public_key)


def test_tampered_bundle_refused(trust, root):
    data = bytearray(sign_trust_bundle(trust, root))
    data[-70] ^= 0x01  # inside the payload
    with pytest.raises(CryptoError):
        load_trust_bundle(bytes(data), root.public_key)


def test_other_document_type_refused(root):
    doc = sign_document({"typ": "status", "v": 1}, root)
    with pytest.raises(CryptoError, match="not a trust"):
        load_trust_bundle(doc, root.public_key)


def test_kid_that_does_not_match_key_refused(root, issuer):
    body = {
        "typ": "trust",
        "v": 1,
        "iat": NOW,
        "until": NOW + 1,
        "hub_time": NOW,
        "keys": [
            {"kid": b"\x00" * 8, "pub": issuer.public_key, "state": "active", "nbf": 0, "naf": None, "ctr": 0}
        ],
    }
    with pytest.raises(CryptoError, match="kid"):
        load_trust_bundle(sign_document(body, root), root.public_key)


def test_sign_refuses_wrong_root(trust):
    with pytest.raises(CryptoError):
        sign_trust_bundle(trust, KeyPair.generate())


def test_bundle_is_cbor_map_in_cose(trust, root):
    payload = cbor2.loads(cbor2.loads(sign_trust_bundle(trust, root)).value[2])
    assert payload["typ"] == "trust" and payload["iat"] == trust.issued_at
