"""The offline verifier: pass text + trust data -> a Verdict. Never raises.

Order matters and is fixed: recognise the prefix, parse the envelope, find the issuer key,
check the signature, and only then read the claims (content is not trusted before the
signature holds). Each failure has its own Reason, so an officer's screen and the hub's logs
say why a pass was refused.

Policy on trust data:
* no trust bundle at all -> TRUST_EXPIRED (the fix is the same: fetch trust data);
* bundle past `valid_until` -> TRUST_EXPIRED, unless `accept_stale`, then the verdict is
  made as usual and flagged `stale`;
* no status list for the issuer key -> NO_STATUS (cannot say the pass is not revoked);
* a status list older than the bundle says exists (its counter below the bundle's
  `status_counter`) is stale data too: NO_STATUS, or `stale` under `accept_stale`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from crypto.cose import Sign1, verify_sign1
from crypto.passes import PASS_PREFIX, PassClaims, claims_from_cbor, parse_pass_envelope
from crypto.status import StatusList
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle


class Reason(StrEnum):
    VALID = "valid"
    NOT_OURS = "not_ours"
    BAD_ENCODING = "bad_encoding"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    KEY_RETIRED = "key_retired"
    KEY_COMPROMISED = "key_compromised"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    TRUST_EXPIRED = "trust_expired"
    NO_STATUS = "no_status"  # no status list for the issuer key: cannot say it is not revoked


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: Reason
    claims: PassClaims | None  # only when the signature held
    trust_age_s: int | None  # now - trust.issued_at
    stale: bool  # trust data past valid_until (or an old status list) accepted by policy


def _signing_key(msg: Sign1, trust: TrustBundle) -> tuple[IssuerKeyInfo | None, bool]:
    """(key whose signature holds, any key had this kid)."""
    candidates = trust.keys_for(msg.kid)
    for info in candidates:
        if verify_sign1(msg, info.public_key):
            return info, True
    return None, bool(candidates)


def _verify(
    text: str, trust: TrustBundle | None, status: Mapping[bytes, StatusList], now: int, accept_stale: bool
) -> Verdict:
    if not isinstance(text, str):
        return Verdict(False, Reason.NOT_OURS, None, None, False)
    text = text.strip()  # scanners add line ends
    if not text.startswith(PASS_PREFIX):
        return Verdict(False, Reason.NOT_OURS, None, None, False)
    age = None if trust is None else now - trust.issued_at
    try:
        msg = parse_pass_envelope(text)
    except ValueError:
        return Verdict(False, Reason.BAD_ENCODING, None, age, False)
    if trust is None:
        return Verdict(False, Reason.TRUST_EXPIRED, None, None, False)

    stale = now > trust.valid_until
    info, kid_known = _signing_key(msg, trust)
    if info is None:
        if stale and not accept_stale:
            # A stale bundle may simply not know a newer key: say what to fix.
            return Verdict(False, Reason.TRUST_EXPIRED, None, age, False)
        reason = Reason.BAD_SIGNATURE if kid_known else Reason.UNKNOWN_KEY
        return Verdict(False, reason, None, age, stale)

    try:
        claims = claims_from_cbor(msg.payload, info.kid)
    except ValueError:
        return Verdict(False, Reason.BAD_ENCODING, None, age, stale)

    def refuse(reason: Reason) -> Verdict:
        return Verdict(False, reason, claims, age, stale)

    if stale and not accept_stale:
        return Verdict(False, Reason.TRUST_EXPIRED, claims, age, False)
    if info.state is KeyState.COMPROMISED:
        return refuse(Reason.KEY_COMPROMISED)
    if info.not_after is not None and claims.issued_at >= info.not_after:
        return refuse(Reason.KEY_RETIRED)
    if now < claims.not_before:
        return refuse(Reason.NOT_YET_VALID)
    if now >= claims.expires_at:
        return refuse(Reason.EXPIRED)

    status_list = status.get(info.kid)
    if status_list is None or status_list.issuer_kid != info.kid:
        return refuse(Reason.NO_STATUS)
    if status_list.counter < info.status_counter:
        if not accept_stale:
            return refuse(Reason.NO_STATUS)
        stale = True
    if status_list.is_revoked(claims.serial):
        return refuse(Reason.REVOKED)
    return Verdict(True, Reason.VALID, claims, age, stale)


def verify(
    text: str,
    trust: TrustBundle | None,
    status: Mapping[bytes, StatusList],
    now: int,
    *,
    accept_stale: bool = False,
) -> Verdict:
    """Verify a scanned pass text offline. Never raises: any failure is a rejecting Verdict."""
    try:
        return _verify(text, trust, status, now, accept_stale)
    except Exception:  # noqa: BLE001 - a roadblock needs an answer, not a traceback
        # Unreachable for well-formed trust data; a defect must still refuse, never crash.
        return Verdict(False, Reason.BAD_ENCODING, None, None, False)
