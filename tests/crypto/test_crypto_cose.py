import cbor2
import pytest

from crypto.cose import ALG_ED25519, parse_sign1, sign1, verify_sign1
from crypto.errors import CryptoError
from crypto.keys import KeyPair


def test_sign1_layout(issuer):
    data = sign1(b"payload", issuer)
    tagged = cbor2.loads(data)
    assert tagged.tag == 18
    protected, unprotected, payload, signature = tagged.value
    assert cbor2.loads(protected) == {1: -8, 4: issuer.kid}
    assert dict(unprotected) == {}
    assert payload == b"payload"
    assert len(signature) == 64


def test_parse_and_verify(issuer):
    msg = parse_sign1(sign1(b"payload", issuer, content_type="application/cbor"))
    assert (msg.alg, msg.kid, msg.payload) == (-8, issuer.kid, b"payload")
    assert msg.protected[3] == "application/cbor"
    assert verify_sign1(msg, issuer.public_key)
    assert not verify_sign1(msg, KeyPair.generate().public_key)


def _manual(key: KeyPair, header: dict, unprotected: dict, payload: bytes, tag: bool = True) -> bytes:
    protected = cbor2.dumps(header)
    sig = key.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    body = [protected, unprotected, payload, sig]
    return cbor2.dumps(cbor2.CBORTag(18, body) if tag else body)


def test_accepts_alg_minus_19_untagged_and_unprotected_kid(issuer):
    data = _manual(issuer, {1: ALG_ED25519}, {4: issuer.kid}, b"x", tag=False)
    msg = parse_sign1(data)
    assert msg.alg == -19 and msg.kid == issuer.kid
    assert verify_sign1(msg, issuer.public_key)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff",
        cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""])),  # COSE_Sign, not Sign1
        cbor2.dumps([b"", {}, b""]),
        cbor2.dumps([cbor2.dumps({1: -7, 4: b"k"}), {}, b"p", b"s"]),  # ES256 not accepted
        cbor2.dumps([cbor2.dumps({4: b"k"}), {1: -8}, b"p", b"s"]),  # alg must be protected
        cbor2.dumps([cbor2.dumps({1: -8}), {}, b"p", b"s"]),  # no kid
        cbor2.dumps([cbor2.dumps({1: -8, 4: b"k"}), {}, None, b"s"]),  # detached payload
        cbor2.dumps([cbor2.dumps({1: [1], 4: b"k"}), {}, b"p", b"s"]),  # unhashable alg
        cbor2.dumps([cbor2.dumps([1]), {}, b"p", b"s"]),
        "text",
    ],
)
def test_parse_rejects(data):
    with pytest.raises(CryptoError):
        parse_sign1(data)


def test_tampered_payload_fails(issuer):
    data = bytearray(sign1(b"payload", issuer))
    data[data.index(b"payload")] ^= 1
    assert not verify_sign1(parse_sign1(bytes(data)), issuer.public_key)


@pytest.mark.parametrize("length", [0, 1, 23, 24, 255, 256, 65_535, 65_536])
def test_sig_structure_is_the_cbor_rfc_9052_defines(length):
    from crypto.cose import _sig_structure

    payload = bytes(length)
    protected = cbor2.dumps({1: -8, 4: b"k" * (length % 40)})
    assert _sig_structure(protected, payload) == cbor2.dumps(["Signature1", protected, b"", payload])
