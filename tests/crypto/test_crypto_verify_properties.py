"""Property tests: verify() answers every input with a Verdict and never raises.

A pass that was changed in any way is refused (Base45 is injective and Ed25519 signatures in
libsodium are not malleable, so no change to the text can keep a signature valid), and random
text is refused as not ours or badly encoded.
"""

from __future__ import annotations

import cbor2
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crypto.base45 import ALPHABET, b45decode, b45encode
from crypto.cose import sign1
from crypto.keys import KeyPair
from crypto.passes import encode_pass
from crypto.status import StatusList
from crypto.trust import TrustBundle
from crypto.verify import Reason, Verdict, verify
from tests.crypto.crypto_fixtures import NOW, issuer_info
from tests.factories import make_claims

ISSUER = KeyPair.from_seed(bytes([2]) * 32)
ROOT = KeyPair.from_seed(bytes([1]) * 32)
TRUST = TrustBundle((issuer_info(ISSUER),), NOW - 60, NOW + 7 * 86_400, NOW - 60, ROOT.kid)
STATUS = {ISSUER.kid: StatusList.empty(ISSUER.kid, 1024)}
VALID = encode_pass(
    make_claims(
        ISSUER, pass_id=bytes(range(16)), holder_name="歐陽大明", now=NOW - 3600, expires_at=NOW + 86_400
    ),
    ISSUER,
)
COSE = b45decode(VALID[4:])

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: object) -> Verdict:
    verdict = verify(text, TRUST, STATUS, NOW)  # type: ignore[arg-type]
    assert isinstance(verdict, Verdict)
    assert isinstance(verdict.reason, Reason)
    assert verdict.ok == (verdict.reason is Reason.VALID)
    return verdict


def test_the_unmutated_pass_is_valid():
    assert check(VALID).ok


@st.composite
def text_mutations(draw: st.DrawFn) -> str:
    text = list(VALID)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "swap"]))
        i = draw(st.integers(0, len(text) - 1))
        char = draw(st.one_of(st.sampled_from(ALPHABET), st.characters()))
        if op == "replace":
            text[i] = char
        elif op == "insert":
            text.insert(i, char)
        elif op == "delete" and len(text) > 1:
            del text[i]
        elif op == "swap":
            j = draw(st.integers(0, len(text) - 1))
            text[i], text[j] = text[j], text[i]
    return "".join(text)


@SETTINGS
@given(text_mutations())
def test_any_text_mutation_is_refused(mutated):
    verdict = check(mutated)
    if mutated.strip() != VALID:
        assert not verdict.ok, mutated


@SETTINGS
@given(st.integers(0, len(COSE) * 8 - 1))
def test_any_bit_flip_in_the_cose_is_refused(bit):
    raw = bytearray(COSE)
    raw[bit // 8] ^= 1 << (bit % 8)
    verdict = check("TP1:" + b45encode(bytes(raw)))
    assert not verdict.ok
    assert verdict.reason in {Reason.BAD_ENCODING, Reason.BAD_SIGNATURE, Reason.UNKNOWN_KEY}


@SETTINGS
@given(st.integers(0, len(COSE) - 1), st.binary(min_size=0, max_size=8))
def test_truncations_and_splices_are_refused(cut, junk):
    spliced = COSE[:cut] + junk
    # the pass's last byte is 0x02: cutting it off and splicing it back on is the pass itself, which a
    # full run of the suite once drew (hypothesis, 300 examples), and which is rightly valid
    assume(spliced != COSE)
    assert not check("TP1:" + b45encode(spliced)).ok


@SETTINGS
@given(st.text())
def test_random_text_is_refused(text):
    verdict = check(text)
    assert not verdict.ok and verdict.reason in {Reason.NOT_OURS, Reason.BAD_ENCODING}


@SETTINGS
@given(st.text(alphabet=ALPHABET, max_size=400))
def test_random_base45_after_the_prefix_is_refused(body):
    verdict = check("TP1:" + body)
    assert not verdict.ok and verdict.reason is Reason.BAD_ENCODING


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=40) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.integers() | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=20,
)


@SETTINGS
@given(cbor_values)
def test_validly_signed_non_pass_content_is_refused(value):
    # The signature holds (our own issuer signed it), the content is not a pass.
    text = "TP1:" + b45encode(sign1(cbor2.dumps(value), ISSUER))
    verdict = check(text)
    assert not verdict.ok and verdict.reason is Reason.BAD_ENCODING and verdict.claims is None


@SETTINGS
@given(cbor_values, st.booleans())
def test_random_cbor_after_the_prefix_is_refused(value, tagged):
    data = cbor2.dumps(cbor2.CBORTag(18, value) if tagged else value)
    verdict = check("TP1:" + b45encode(data))
    assert not verdict.ok and verdict.reason is Reason.BAD_ENCODING


@SETTINGS
@given(
    st.lists(
        st.none() | st.integers() | st.binary(max_size=70) | st.dictionaries(st.integers(), st.integers())
    )
)
def test_cose_shaped_garbage_is_refused(parts):
    data = cbor2.dumps(cbor2.CBORTag(18, parts))
    assert not check("TP1:" + b45encode(data)).ok


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_are_refused(raw):
    assert not check("TP1:" + b45encode(raw)).ok
