from dataclasses import replace

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.base45 import b45decode
from crypto.errors import CryptoError
from crypto.keys import KeyPair
from crypto.passes import (
    PASS_KID_BYTES,
    PASS_PREFIX,
    PassClaims,
    claims_from_cbor,
    claims_to_cbor,
    decode_pass,
    encode_pass,
    pass_qr_png,
    qr_version,
)
from tests.ci import in_ci
from tests.factories import make_claims


def as_read(claims: PassClaims) -> PassClaims:
    """`claims` as decode_pass reads them back: the pass names only the kid's first bytes."""
    return replace(claims, issuer_kid=claims.issuer_kid[:PASS_KID_BYTES])


def test_round_trip(claims, issuer):
    text = encode_pass(claims, issuer)
    assert text.startswith(PASS_PREFIX)
    msg, decoded = decode_pass(text)
    assert decoded == as_read(claims)
    assert msg.kid == issuer.kid[:PASS_KID_BYTES]


def test_payload_uses_cwt_keys_and_omits_defaults(claims):
    claims = replace(claims, expires_at=claims.not_before + 30 * 86_400)
    body = cbor2.loads(claims_to_cbor(claims))
    assert body[7] == claims.pass_id and body[6] == claims.issued_at
    assert 4 not in body and body[-9] == 30  # whole days of validity travel as a day count
    assert 5 not in body  # nbf == iat
    assert -6 not in body  # kind employee
    assert body[-3] == int("A12569", 36)  # the required mask: its 6 visible characters in base 36
    assert body[-4] == 4595257
    assert -2 not in body and -5 not in body  # both names fit the 13-bit packing
    assert len(body[-7]) == 5 and len(body[-8]) == 9  # 3 x 13 bits; 4 characters + 1 phrase


def test_envelope_is_untagged_with_a_short_kid(claims, issuer):
    raw = b45decode(encode_pass(claims, issuer)[len(PASS_PREFIX) :])
    envelope = cbor2.loads(raw)
    assert isinstance(envelope, list) and len(envelope) == 4  # no tag 18: the prefix says what it is
    assert cbor2.loads(envelope[0]) == {1: -8, 4: issuer.kid[:PASS_KID_BYTES]}


def test_validity_that_is_not_whole_days_travels_as_exp(claims, issuer):
    changed = replace(claims, expires_at=claims.not_before + 30 * 86_400 + 1)
    body = cbor2.loads(claims_to_cbor(changed))
    assert body[4] == changed.expires_at and -9 not in body
    assert decode_pass(encode_pass(changed, issuer))[1] == as_read(changed)


def test_names_without_a_13_bit_code_fall_back_to_utf16(claims, issuer):
    changed = replace(claims, holder_name="林堃")  # 堃 is outside Big5's frequent characters
    body = cbor2.loads(claims_to_cbor(changed))
    assert body[-2] == "林堃".encode("utf-16-be") and -7 not in body
    assert decode_pass(encode_pass(changed, issuer))[1] == as_read(changed)


@pytest.mark.parametrize(
    "change",
    [
        {-9: 30, 4: 1_766_592_000},  # both exp spellings
        {-7: "陳大明".encode("utf-16-be"), -2: "陳大明"},  # both holder-name spellings
        {-3: 36**6},  # masked id number beyond six base-36 digits
        {-9: 0},  # zero days of validity
        {-8: b"\xff\xff"},  # packed text with a code outside the table
        {-8: b"\x00"},  # a length no count of 13-bit codes gives
    ],
)
def test_contradicting_or_broken_claims_are_refused(claims, change):
    body = dict(cbor2.loads(claims_to_cbor(claims)))
    body.update(change)
    with pytest.raises(CryptoError):
        claims_from_cbor(cbor2.dumps(body), claims.issuer_kid)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "vehicle"},
        {"kind": "contractor"},
        {"not_before": 1_764_100_000},
        {"masked_national_id": "A1*******9"},
        {"org_id": "ORG-7"},
        {"org_id": ""},
        {"org_name": "ACME Ltd"},
        {"holder_name": "John Smith"},
    ],
)
def test_round_trip_variants(claims, issuer, change):
    changed = replace(claims, **change)
    assert decode_pass(encode_pass(changed, issuer))[1] == as_read(changed)


@pytest.mark.parametrize(
    "change",
    [
        {"masked_national_id": "A123456789"},  # a clear national ID never goes into a pass
        {"masked_national_id": "A12345678"},
        {"pass_id": b"short"},
        {"serial": -1},
        {"holder_name": ""},
        {"expires_at": 1_000},
        {"issued_at": True},
    ],
)
def test_encode_refuses_bad_claims(claims, issuer, change):
    with pytest.raises(CryptoError):
        encode_pass(replace(claims, **change), issuer)


def test_encode_refuses_other_key(claims):
    with pytest.raises(CryptoError):
        encode_pass(claims, KeyPair.generate())


@pytest.mark.parametrize(
    "body",
    [{}, {"typ": "officer"}, [1, 2], {7: b"x" * 16}, "text"],
)
def test_claims_from_cbor_rejects(body, issuer):
    with pytest.raises(CryptoError):
        claims_from_cbor(cbor2.dumps(body), issuer.kid)


def test_decode_rejects_missing_prefix_and_bad_base45(claims, issuer):
    text = encode_pass(claims, issuer)
    for bad in (text[4:], "TP2:" + text[4:], text + "a", PASS_PREFIX + "GGW"):
        with pytest.raises(CryptoError):
            decode_pass(bad)


def test_four_char_chinese_name_fits_version_11(claims, issuer):
    text = encode_pass(replace(claims, holder_name="歐陽大明", serial=999_999), issuer)
    assert len(b45decode(text[4:])) <= 170
    assert qr_version(text) <= 11


def test_qr_png_decodes_back(claims, issuer):
    try:
        import zxingcpp as zxing
    except ImportError:
        if in_ci():
            raise
        pytest.skip("zxing-cpp (checkpoint extra) not installed")
    from io import BytesIO

    from PIL import Image

    text = encode_pass(claims, issuer)
    png = pass_qr_png(text)
    assert png.startswith(b"\x89PNG")
    results = zxing.read_barcodes(Image.open(BytesIO(png)), formats=zxing.BarcodeFormat.QRCode)
    assert [r.text for r in results] == [text]
    assert results[0].ec_level == "Q"


names = st.text(min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(holder=names, org=names, org_id=st.text(max_size=12), kind=names, serial=st.integers(0, 2**32 - 1))
def test_any_text_round_trips(holder, org, org_id, kind, serial):
    issuer = KeyPair.from_seed(bytes([2]) * 32)
    claims = make_claims(
        issuer,
        pass_id=bytes(16),
        serial=serial,
        holder_name=holder,
        org_id=org_id,
        org_name=org,
        kind=kind,
        now=1_764_000_000,
        valid_for=86_400,
    )
    assert decode_pass(encode_pass(claims, issuer))[1] == as_read(claims)


def test_rare_cjk_outside_the_bmp_round_trips(claims, issuer):
    changed = replace(claims, holder_name="𠀋大明", org_name="𡘙記")  # CJK Extension B, used in names
    assert decode_pass(encode_pass(changed, issuer))[1] == as_read(changed)


def test_lone_surrogate_is_crypto_error(claims, issuer):
    with pytest.raises(CryptoError):
        encode_pass(replace(claims, holder_name="陳\ud800明"), issuer)
