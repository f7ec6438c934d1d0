from dataclasses import replace

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.base45 import b45decode
from crypto.errors import CryptoError
from crypto.keys import KeyPair
from crypto.passes import (
    PASS_PREFIX,
    claims_from_cbor,
    claims_to_cbor,
    decode_pass,
    encode_pass,
    pass_qr_png,
    qr_version,
)
from tests.ci import in_ci
from tests.factories import make_claims


def test_round_trip(claims, issuer):
    text = encode_pass(claims, issuer)
    assert text.startswith(PASS_PREFIX)
    msg, decoded = decode_pass(text)
    assert decoded == claims
    assert msg.kid == issuer.kid


def test_payload_uses_cwt_keys_and_omits_defaults(claims):
    body = cbor2.loads(claims_to_cbor(claims))
    assert body[7] == claims.pass_id and body[6] == claims.issued_at and body[4] == claims.expires_at
    assert 5 not in body  # nbf == iat
    assert -6 not in body  # kind employee
    assert body[-3] == "A12569"  # the seed mask travels as its 6 visible characters
    assert body[-4] == 4595257


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
    assert decode_pass(encode_pass(changed, issuer))[1] == changed


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
    results = zxing.read_barcodes(Image.open(BytesIO(png)))
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
    assert decode_pass(encode_pass(claims, issuer))[1] == claims


def test_rare_cjk_outside_the_bmp_round_trips(claims, issuer):
    changed = replace(claims, holder_name="𠀋大明", org_name="𡘙記")  # CJK Extension B, used in names
    assert decode_pass(encode_pass(changed, issuer))[1] == changed


def test_lone_surrogate_is_crypto_error(claims, issuer):
    with pytest.raises(CryptoError):
        encode_pass(replace(claims, holder_name="陳\ud800明"), issuer)
