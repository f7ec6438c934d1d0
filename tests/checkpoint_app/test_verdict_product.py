"""The offline verdict over the whole product: pass state × freshness of the trust data × stale policy.

Whatever the data's age and whatever the policy, a revoked, forged, truncated or unknown-key pass is
never accepted; through the app (its store, its verifier and its clock), an expired or not-yet-valid
pass is not either, even with the device clock set back. A valid pass is accepted exactly when the
policy allows the data's age, and flagged stale when the data is old.

Freshness, with T the true time and B the moment the trust bundle was made (its hub_time):
- fresh: T shortly after B, status list as current as the bundle says;
- stale: T past the bundle's valid_until;
- old_status: the status list the device holds is older than the bundle (its counter below the
  counter the bundle carries for the key) — the pass's revocation is already in it;
- clock_back: the device's wall clock is set back before B (a phone's date changed by hand).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkpoint_app.store import Store
from checkpoint_app.verifier import Verifier
from crypto.base45 import b45decode, b45encode
from crypto.keys import KeyPair
from crypto.passes import PASS_PREFIX, encode_pass
from crypto.status import StatusList
from crypto.trust import TrustBundle
from crypto.verify import Reason, Verdict, verify
from tests.checkpoint_app.cpworld import World, seed_store
from tests.factories import DAY, make_claims

PASS_STATES = ("valid", "revoked", "expired", "not_yet_valid", "unknown_key", "forged", "truncated")
FRESHNESS = ("fresh", "stale", "old_status", "clock_back")
POLICIES = (False, True)  # accept_stale: refuse stale data / accept it flagged
NEVER_ACCEPTED = {"revoked", "unknown_key", "forged", "truncated"}  # whatever the clock says
B = 1_764_000_000  # the bundle's hub_time
WEEK = 7 * DAY


@dataclasses.dataclass
class Case:
    text: str
    bundle: TrustBundle
    status: StatusList
    wall: int  # the device's wall clock
    true_now: int


def build(state: str, freshness: str, *, serial: int, offset: int, bit: int, cut: int) -> Case:
    """One cell of the product; `serial`, `offset`, `bit` and `cut` vary it within the cell."""
    issuer = KeyPair.from_seed(bytes([7]) * 32)
    world = World(root=KeyPair.from_seed(bytes([8]) * 32), issuer=issuer, now=B)
    status = StatusList.empty(issuer.kid, 1024)
    status.revoke(1000)  # an earlier revocation: the counter is not at its start
    if state == "revoked":
        status.revoke(serial)
    counter_in_bundle = status.counter + (1 if freshness == "old_status" else 0)
    world.status = status
    base = world.bundle(issued_at=B, valid_until=B + WEEK)
    keys = tuple(dataclasses.replace(k, status_counter=counter_in_bundle) for k in base.issuer_keys)
    bundle = dataclasses.replace(base, issuer_keys=keys)

    true_now = B + WEEK + offset if freshness == "stale" else B + offset % WEEK
    wall = B - offset - 1 if freshness == "clock_back" else true_now
    nbf, exp = B - 2 * DAY, B + 28 * DAY + WEEK * 2
    if state == "expired":
        exp = B - 1 - offset % DAY  # expired before the bundle was made
    if state == "not_yet_valid":
        nbf = true_now + 1 + offset % DAY
    signer = KeyPair.from_seed(bytes([9]) * 32) if state == "unknown_key" else issuer
    claims = make_claims(signer, serial=serial, issued_at=B - 2 * DAY, not_before=nbf, expires_at=exp)
    text = encode_pass(claims, signer)
    if state == "forged":  # one bit of the signature (the COSE structure's last 64 bytes) flipped
        raw = bytearray(b45decode(text[len(PASS_PREFIX) :]))
        raw[-64 + bit // 8] ^= 1 << (bit % 8)
        text = PASS_PREFIX + b45encode(bytes(raw))
    if state == "truncated":
        text = text[: len(PASS_PREFIX) + cut % (len(text) - len(PASS_PREFIX))]
    return Case(text, bundle, status, wall, true_now)


def expect_valid_pass(freshness: str, accept_stale: bool, verdict: Verdict) -> None:
    old = freshness in ("stale", "old_status")
    assert verdict.ok == (not old or accept_stale), verdict
    if verdict.ok:
        assert verdict.stale == old, verdict
    else:
        assert verdict.reason is (Reason.TRUST_EXPIRED if freshness == "stale" else Reason.NO_STATUS)


variations = {
    "serial": st.integers(0, 999),
    "offset": st.integers(1, 30 * DAY),
    "bit": st.integers(0, 511),
    "cut": st.integers(0, 10_000),
}


@settings(max_examples=600, deadline=None)
@given(
    state=st.sampled_from(PASS_STATES),
    freshness=st.sampled_from(FRESHNESS),
    accept_stale=st.sampled_from(POLICIES),
    **variations,
)
def test_crypto_verify_never_accepts_a_revoked_or_forged_pass(
    state: str, freshness: str, accept_stale: bool, serial: int, offset: int, bit: int, cut: int
) -> None:
    case = build(state, freshness, serial=serial, offset=offset, bit=bit, cut=cut)
    # crypto.verify judges at the time it is given; the clamp against a clock set back is the app's.
    verdict = verify(
        case.text, case.bundle, {case.status.issuer_kid: case.status}, case.wall, accept_stale=accept_stale
    )
    assert verdict.ok == (verdict.reason is Reason.VALID)
    if state in NEVER_ACCEPTED:
        assert not verdict.ok, (state, freshness, accept_stale, verdict)
    # Said as it is, not as some other failure (with the clock set back, the pass may not have begun yet
    # at that clock: only the app's clamp makes that case say revoked).
    if state == "revoked" and freshness != "clock_back" and (accept_stale or freshness == "fresh"):
        assert verdict.reason is Reason.REVOKED, verdict
    if state == "valid" and freshness != "clock_back":
        expect_valid_pass(freshness, accept_stale, verdict)


def _app_verifier(folder: Path, case: Case, accept_stale: bool) -> Verifier:
    world = World(root=KeyPair.from_seed(bytes([8]) * 32), issuer=KeyPair.from_seed(bytes([7]) * 32), now=B)
    world.status = case.status
    seed_store(folder, world, bundle=case.bundle, with_officer=False)
    return Verifier(Store(folder), accept_stale=accept_stale)


@pytest.mark.parametrize("accept_stale", POLICIES, ids=["refuse_stale", "accept_flagged"])
@pytest.mark.parametrize("freshness", FRESHNESS)
@pytest.mark.parametrize("state", PASS_STATES)
def test_the_apps_verdict_over_the_product(state: str, freshness: str, accept_stale: bool) -> None:
    """Through the app's own store and verifier, judged at the app's verdict time."""
    case = build(state, freshness, serial=42, offset=3 * DAY, bit=77, cut=50)
    with tempfile.TemporaryDirectory() as folder:
        verifier = _app_verifier(Path(folder), case, accept_stale)
        try:
            assert verifier.trust == case.bundle  # the root-signed bundle was loaded, not dropped
            verdict = verifier.check(case.text, verifier.verdict_time(case.wall))
        finally:
            verifier.store.close()
    if state == "valid":
        expect_valid_pass(freshness, accept_stale, verdict)
    else:
        assert not verdict.ok, (state, freshness, accept_stale, verdict)
    if state == "revoked" and (accept_stale or freshness in ("fresh", "clock_back")):
        assert verdict.reason is Reason.REVOKED, verdict


@pytest.mark.parametrize("accept_stale", POLICIES, ids=["refuse_stale", "accept_flagged"])
def test_a_revoked_pass_with_a_status_list_older_than_the_bundle_is_never_valid(accept_stale: bool) -> None:
    """The case the stale-status path must not skip: the device's list already has the revocation,
    but is older than the bundle; under no policy does the pass verify."""
    case = build("revoked", "old_status", serial=5, offset=DAY, bit=0, cut=0)
    assert case.status.is_revoked(5) and case.status.counter < case.bundle.issuer_keys[0].status_counter
    verdict = verify(
        case.text, case.bundle, {case.status.issuer_kid: case.status}, case.wall, accept_stale=accept_stale
    )
    assert not verdict.ok
    assert verdict.reason is (Reason.REVOKED if accept_stale else Reason.NO_STATUS)
