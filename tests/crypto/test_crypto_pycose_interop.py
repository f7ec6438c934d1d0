"""Interoperability with an independent COSE implementation: pycose 1.1.0.

pycose 1.1.0 decodes with `cbor2.loads` and expects a tagged *list*; cbor2 6.x returns arrays
inside tags as tuples (and maps as frozendicts), so `Sign1Message.decode` refuses every
message. Rather than holding the project's cbor2 back, the test hands pycose's message module
a cbor2 whose `loads` thaws those immutable containers — the adaptation lives here, in the test.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import cbor2
import pytest

from tests.ci import in_ci

try:
    from pycose.headers import KID, Algorithm
    from pycose.keys.curves import Ed25519
    from pycose.keys.keyparam import OKPKpCurve, OKPKpD, OKPKpX
    from pycose.keys.okp import OKPKey
    from pycose.messages import Sign1Message, cosemessage
except ImportError:  # pragma: no cover - dev extra missing
    if in_ci():
        raise
    pytest.skip("pycose (dev extra) not installed", allow_module_level=True)

from crypto.base45 import b45decode, b45encode
from crypto.passes import claims_to_cbor, encode_pass
from crypto.verify import Reason, verify
from tests.crypto.crypto_fixtures import NOW


def _thaw(obj: Any) -> Any:
    if isinstance(obj, cbor2.CBORTag):
        return cbor2.CBORTag(obj.tag, _thaw(obj.value))
    if isinstance(obj, tuple | list):
        return [_thaw(x) for x in obj]
    if isinstance(obj, cbor2.frozendict | dict):
        return {k: _thaw(v) for k, v in obj.items()}
    return obj


@pytest.fixture
def pycose_decodes(monkeypatch):
    adapted = SimpleNamespace(
        loads=lambda data, **kw: _thaw(cbor2.loads(data, **kw)),
        dumps=cbor2.dumps,
        CBORTag=cbor2.CBORTag,
    )
    monkeypatch.setattr(cosemessage, "cbor2", adapted)


def _okp(key, private: bool) -> OKPKey:
    params = {OKPKpCurve: Ed25519, OKPKpX: key.public_key}
    if private:
        params[OKPKpD] = key.seed
    return OKPKey.from_dict(params)


def test_without_the_adapter_pycose_cannot_decode_cbor2_6_output(claims, issuer):
    # Documents why the fixture exists; if cbor2 or pycose change, this tells us to drop it.
    raw = b45decode(encode_pass(claims, issuer)[4:])
    with pytest.raises(TypeError):
        Sign1Message.decode(raw)


def test_pycose_verifies_a_pass_we_signed(claims, issuer, pycose_decodes):
    text = encode_pass(claims, issuer)
    msg = Sign1Message.decode(b45decode(text[4:]))
    assert msg.phdr[Algorithm].identifier == -8
    assert msg.phdr[KID] == issuer.kid
    assert msg.payload == claims_to_cbor(claims)
    msg.key = _okp(issuer, private=False)
    assert msg.verify_signature()


def test_pycose_rejects_a_tampered_pass(claims, issuer, pycose_decodes):
    raw = bytearray(b45decode(encode_pass(claims, issuer)[4:]))
    raw[-1] ^= 0x01  # last byte of the signature
    msg = Sign1Message.decode(bytes(raw))
    msg.key = _okp(issuer, private=False)
    assert not msg.verify_signature()


@pytest.mark.parametrize("kid_where", ["protected", "unprotected"])
def test_we_verify_a_pass_pycose_signed(claims, issuer, trust, status, kid_where):
    headers = {"phdr": {Algorithm: -8}, "uhdr": {}}
    headers["phdr" if kid_where == "protected" else "uhdr"][KID] = issuer.kid
    msg = Sign1Message(payload=claims_to_cbor(claims), **headers)
    msg.key = _okp(issuer, private=True)
    text = "TP1:" + b45encode(msg.encode(tag=True))
    verdict = verify(text, trust, status, NOW)
    assert verdict.ok and verdict.reason is Reason.VALID
    assert verdict.claims == claims


def test_we_refuse_a_pycose_pass_signed_by_another_key(claims, issuer, trust, status):
    from crypto.keys import KeyPair

    other = KeyPair.from_seed(b"p" * 32)
    msg = Sign1Message(phdr={Algorithm: -8, KID: issuer.kid}, payload=claims_to_cbor(claims))
    msg.key = _okp(other, private=True)
    text = "TP1:" + b45encode(msg.encode(tag=True))
    assert verify(text, trust, status, NOW).reason is Reason.BAD_SIGNATURE
