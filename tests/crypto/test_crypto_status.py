import random

import pytest

from crypto.errors import CryptoError
from crypto.keys import KeyPair
from crypto.status import (
    StatusDelta,
    StatusList,
    apply_delta,
    diff_status,
    load_status_delta,
    load_status_list,
    sign_status_delta,
    sign_status_list,
)


def test_revoke_sets_exactly_one_bit_and_bumps_counter(issuer):
    sl = StatusList.empty(issuer.kid, 100)
    sl.revoke(9)
    assert sl.counter == 1
    assert [s for s in range(100) if sl.is_revoked(s)] == [9]
    assert sl.bits[1] == 0b10  # serial 9: byte 1, bit 1 (least significant first)
    sl.revoke(9)
    assert sl.counter == 1  # already revoked: nothing changed


def test_serial_beyond_size_is_not_revoked_and_revoking_grows(issuer):
    sl = StatusList.empty(issuer.kid, 8)
    assert not sl.is_revoked(1000)
    sl.revoke(1000)
    assert sl.size == 1001 and sl.is_revoked(1000) and not sl.is_revoked(999)


def test_negative_serial_is_error(issuer):
    with pytest.raises(CryptoError):
        StatusList.empty(issuer.kid, 8).is_revoked(-1)


def test_signed_round_trip(issuer):
    sl = StatusList.empty(issuer.kid, 10_000)
    for s in (0, 7, 8, 9_999):
        sl.revoke(s)
    loaded = load_status_list(sign_status_list(sl, issuer), issuer.public_key)
    assert loaded == sl


def test_load_refuses_other_key(issuer):
    data = sign_status_list(StatusList.empty(issuer.kid, 8), issuer)
    with pytest.raises(CryptoError):
        load_status_list(data, KeyPair.generate().public_key)


def test_sign_refuses_other_issuer(issuer):
    with pytest.raises(CryptoError):
        sign_status_list(StatusList.empty(issuer.kid, 8), KeyPair.generate())


def test_delta_round_trip_and_apply(issuer):
    rng = random.Random(7)
    old = StatusList.empty(issuer.kid, 100_000)
    for s in rng.sample(range(100_000), 50):
        old.revoke(s)
    new = old.copy()
    fresh = rng.sample(range(100_000), 30)
    for s in fresh:
        new.revoke(s)
    delta = diff_status(old, new)
    assert delta.from_counter == old.counter and delta.to_counter == new.counter
    assert set(delta.serials) == {s for s in fresh if not old.is_revoked(s)}
    loaded = load_status_delta(sign_status_delta(delta, issuer), issuer.public_key)
    assert loaded.serials == tuple(sorted(delta.serials))
    assert apply_delta(old, loaded) == new


def test_apply_delta_refuses_wrong_start(issuer):
    sl = StatusList.empty(issuer.kid, 8)
    with pytest.raises(CryptoError):
        apply_delta(sl, StatusDelta(issuer.kid, 3, 4, (1,)))


def test_delta_with_more_serials_than_steps_refused(issuer):
    with pytest.raises(CryptoError):
        sign_status_delta(StatusDelta(issuer.kid, 0, 1, (1, 2)), issuer)


def test_zip_bomb_refused(issuer):
    import zlib

    from crypto.cose import sign_document

    body = {"typ": "status", "kid": issuer.kid, "ctr": 0, "size": 8, "bits": zlib.compress(bytes(10_000_000))}
    with pytest.raises(CryptoError, match="length"):
        load_status_list(sign_document(body, issuer), issuer.public_key)


def test_delta_serials_round_trip_across_every_varint_length(issuer):
    # Gaps of 127, 128, 129 (one byte / two bytes at the 0x80 edge), 2**14 and 2**21 (three, four bytes).
    serials = [127]
    for gap in (128, 129, 2**14, 2**21):
        serials.append(serials[-1] + gap)
    delta = StatusDelta(issuer.kid, 0, len(serials), tuple(serials))
    assert load_status_delta(sign_status_delta(delta, issuer), issuer.public_key) == delta


@pytest.mark.parametrize(
    ("gaps", "why"),
    [(b"\x05\x80", "truncated"), (b"\xff" * 6 + b"\x01", "too long")],
)
def test_delta_with_a_malformed_varint_refused(issuer, gaps, why):
    from crypto.cose import sign_document
    from crypto.status import DELTA_TYPE

    body = {"typ": DELTA_TYPE, "kid": issuer.kid, "from": 0, "to": 9, "gaps": gaps}
    with pytest.raises(CryptoError, match=why):
        load_status_delta(sign_document(body, issuer), issuer.public_key)


@pytest.mark.parametrize("which", ["list", "key"])
def test_signing_something_else_is_refused(issuer, which):
    sl = StatusList.empty(issuer.kid, 8)
    with pytest.raises(CryptoError):
        sign_status_list(None if which == "list" else sl, None if which == "key" else issuer)


def test_delta_counts_its_steps_from_where_it_starts(issuer):
    # An empty delta (nothing new since from) is fine; two serials in one step from counter 5 are not.
    empty = StatusDelta(issuer.kid, 5, 5, ())
    assert load_status_delta(sign_status_delta(empty, issuer), issuer.public_key) == empty
    with pytest.raises(CryptoError, match="more serials"):
        sign_status_delta(StatusDelta(issuer.kid, 5, 6, (1, 2)), issuer)
    with pytest.raises(CryptoError):
        sign_status_delta(None, issuer)
    with pytest.raises(CryptoError):
        sign_status_delta(empty, None)
