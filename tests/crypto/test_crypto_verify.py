from dataclasses import replace

import pytest

from crypto.keys import KeyPair
from crypto.passes import encode_pass
from crypto.status import StatusList
from crypto.trust import KeyState
from crypto.verify import Reason, verify
from tests.crypto.crypto_fixtures import NOW, issuer_info, with_keys


def test_valid(claims, issuer, trust, status):
    v = verify(encode_pass(claims, issuer), trust, status, NOW)
    assert v.ok and v.reason is Reason.VALID and v.claims == claims
    assert v.trust_age_s == 60 and not v.stale


def test_trailing_newline_from_scanner_is_fine(claims, issuer, trust, status):
    assert verify(encode_pass(claims, issuer) + "\r\n", trust, status, NOW).ok


@pytest.mark.parametrize("text", ["", "hello", "HC1:6BFOXN", "https://example.com", None, b"TP1:"])
def test_not_ours(text, trust, status):
    v = verify(text, trust, status, NOW)
    assert not v.ok and v.reason is Reason.NOT_OURS and v.claims is None


@pytest.mark.parametrize("text", ["TP1:", "TP1:abc", "TP1:GGW", "TP1:" + "A" * 5000, "TP1:QED8WEX0"])
def test_bad_encoding(text, trust, status):
    assert verify(text, trust, status, NOW).reason is Reason.BAD_ENCODING


def test_unknown_key(claims, trust, status):
    other = KeyPair.from_seed(b"x" * 32)
    text = encode_pass(replace(claims, issuer_kid=other.kid), other)
    assert verify(text, trust, status, NOW).reason is Reason.UNKNOWN_KEY


def test_bad_signature_when_kid_matches_but_key_differs(claims, issuer, trust, status):
    impostor = KeyPair.from_seed(b"y" * 32)
    # Sign with another key but put the trusted kid in the header.
    import cbor2

    from crypto.base45 import b45encode
    from crypto.passes import claims_to_cbor

    protected = cbor2.dumps({1: -8, 4: issuer.kid})
    payload = claims_to_cbor(claims)
    sig = impostor.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    text = "TP1:" + b45encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig])))
    v = verify(text, trust, status, NOW)
    assert v.reason is Reason.BAD_SIGNATURE and v.claims is None


def test_retired_key_still_verifies_older_passes(claims, issuer, trust, status):
    retired = with_keys(trust, issuer_info(issuer, KeyState.RETIRED, not_after=claims.issued_at + 1))
    assert verify(encode_pass(claims, issuer), retired, status, NOW).ok
    at_cutoff = with_keys(trust, issuer_info(issuer, KeyState.RETIRED, not_after=claims.issued_at))
    v = verify(encode_pass(claims, issuer), at_cutoff, status, NOW)
    assert v.reason is Reason.KEY_RETIRED and v.claims == claims


def test_compromised_key_refuses_even_old_passes(claims, issuer, trust, status):
    bad = with_keys(trust, issuer_info(issuer, KeyState.COMPROMISED, not_after=NOW))
    assert verify(encode_pass(claims, issuer), bad, status, NOW).reason is Reason.KEY_COMPROMISED


def test_not_yet_valid_and_expired(claims, issuer, trust, status):
    text = encode_pass(replace(claims, not_before=NOW + 10), issuer)
    assert verify(text, trust, status, NOW).reason is Reason.NOT_YET_VALID
    short = replace(claims, expires_at=NOW + 100)
    text = encode_pass(short, issuer)
    assert verify(text, trust, status, short.expires_at).reason is Reason.EXPIRED
    assert verify(text, trust, status, short.expires_at - 1).ok


def test_revoked(claims, issuer, trust, status):
    status[issuer.kid].revoke(claims.serial)
    v = verify(encode_pass(claims, issuer), trust, status, NOW)
    assert v.reason is Reason.REVOKED and v.claims == claims
    status[issuer.kid] = StatusList.empty(issuer.kid, 8)
    status[issuer.kid].revoke(claims.serial + 1)
    assert verify(encode_pass(claims, issuer), trust, status, NOW).ok


def test_no_status_list(claims, issuer, trust):
    assert verify(encode_pass(claims, issuer), trust, {}, NOW).reason is Reason.NO_STATUS


def test_status_list_older_than_bundle_says(claims, issuer, trust, status):
    newer = with_keys(trust, replace(issuer_info(issuer), status_counter=5))
    text = encode_pass(claims, issuer)
    assert verify(text, newer, status, NOW).reason is Reason.NO_STATUS
    v = verify(text, newer, status, NOW, accept_stale=True)
    assert v.ok and v.stale


def test_trust_expired_and_accept_stale(claims, issuer, trust, status):
    text = encode_pass(claims, issuer)
    late = trust.valid_until + 1
    v = verify(text, trust, status, late)
    assert v.reason is Reason.TRUST_EXPIRED and not v.ok and v.claims == claims
    v = verify(text, trust, status, late, accept_stale=True)
    assert v.ok and v.stale and v.trust_age_s == late - trust.issued_at


def test_no_trust_at_all(claims, issuer, status):
    v = verify(encode_pass(claims, issuer), None, status, NOW)
    assert v.reason is Reason.TRUST_EXPIRED and v.trust_age_s is None


def test_signature_checked_before_content(issuer, trust, status):
    # A correctly signed payload that is not a pass: the signature holds, the content does not.
    import cbor2

    from crypto.base45 import b45encode
    from crypto.cose import sign1

    text = "TP1:" + b45encode(sign1(cbor2.dumps({"typ": "officer", "exp": NOW + 10}), issuer))
    assert verify(text, trust, status, NOW).reason is Reason.BAD_ENCODING


def test_verify_tries_every_key_sharing_a_kid(claims, issuer, trust, status):
    decoy = KeyPair.from_seed(b"d" * 32)
    collide = replace(issuer_info(decoy), kid=issuer.kid)
    both = with_keys(trust, collide, issuer_info(issuer))
    assert verify(encode_pass(claims, issuer), both, status, NOW).ok


def test_every_refusal_is_a_whole_verdict(claims, issuer, trust, status):
    # What an officer's screen and the hub's logs read: ok is exactly False, the claims only once the
    # signature held, the trust data's age whenever there is trust data and the text is ours, and
    # stale only when stale data was accepted by policy.
    import cbor2

    from crypto.base45 import b45encode
    from crypto.cose import sign1
    from crypto.verify import Verdict

    text = encode_pass(claims, issuer)
    age = NOW - trust.issued_at
    other = KeyPair.from_seed(b"x" * 32)
    unknown = encode_pass(replace(claims, issuer_kid=other.kid), other)
    late = trust.valid_until + 1
    # Signed by the issuer, so the signature holds, but its content is not a pass.
    not_a_pass = "TP1:" + b45encode(sign1(cbor2.dumps({"typ": "officer"}), issuer))
    cases = [
        (verify("hello", trust, status, NOW), Verdict(False, Reason.NOT_OURS, None, None, False)),
        (verify(None, trust, status, NOW), Verdict(False, Reason.NOT_OURS, None, None, False)),
        (verify("TP1:abc", trust, status, NOW), Verdict(False, Reason.BAD_ENCODING, None, age, False)),
        (verify("TP1:abc", None, status, NOW), Verdict(False, Reason.BAD_ENCODING, None, None, False)),
        (verify(text, None, status, NOW), Verdict(False, Reason.TRUST_EXPIRED, None, None, False)),
        (verify(unknown, trust, status, NOW), Verdict(False, Reason.UNKNOWN_KEY, None, age, False)),
        (
            verify(unknown, trust, status, late),
            Verdict(False, Reason.TRUST_EXPIRED, None, late - trust.issued_at, False),
        ),
        (
            verify(unknown, trust, status, late, accept_stale=True),
            Verdict(False, Reason.UNKNOWN_KEY, None, late - trust.issued_at, True),
        ),
        (
            verify(text, trust, status, late),
            Verdict(False, Reason.TRUST_EXPIRED, claims, late - trust.issued_at, False),
        ),
        (verify(text, trust, {}, NOW), Verdict(False, Reason.NO_STATUS, claims, age, False)),
        (verify(not_a_pass, trust, status, NOW), Verdict(False, Reason.BAD_ENCODING, None, age, False)),
        (
            verify(not_a_pass, trust, status, late, accept_stale=True),
            Verdict(False, Reason.BAD_ENCODING, None, late - trust.issued_at, True),
        ),
        (
            verify(text, trust, {issuer.kid: StatusList.empty(other.kid, 8)}, NOW),
            Verdict(False, Reason.NO_STATUS, claims, age, False),
        ),
    ]
    for got, want in cases:
        assert got == want
        assert got.ok is False


def test_a_stale_status_list_still_refuses_a_revoked_pass(claims, issuer, trust, status):
    newer = with_keys(trust, replace(issuer_info(issuer), status_counter=5))
    status[issuer.kid].revoke(claims.serial)
    v = verify(encode_pass(claims, issuer), newer, status, NOW, accept_stale=True)
    assert (v.ok, v.reason, v.stale) == (False, Reason.REVOKED, True)


def test_trust_data_is_current_up_to_and_including_its_valid_until(claims, issuer, trust, status):
    text = encode_pass(claims, issuer)
    last = verify(text, trust, status, trust.valid_until)
    assert (last.ok, last.stale) == (True, False)
    after = verify(text, trust, status, trust.valid_until + 1)
    assert (after.ok, after.reason) == (False, Reason.TRUST_EXPIRED)


def test_a_pass_is_valid_from_its_not_before_second(claims, issuer, trust, status):
    text = encode_pass(replace(claims, not_before=NOW), issuer)
    assert verify(text, trust, status, NOW).ok
    assert verify(text, trust, status, NOW - 1).reason is Reason.NOT_YET_VALID


def test_broken_trust_data_refuses_and_never_raises(claims, issuer, trust):
    # Not a StatusList where one belongs: the roadblock still gets an answer, and it is a refusal.
    from crypto.verify import Verdict

    v = verify(encode_pass(claims, issuer), trust, {issuer.kid: "not a status list"}, NOW)
    assert v == Verdict(False, Reason.BAD_ENCODING, None, None, False)
