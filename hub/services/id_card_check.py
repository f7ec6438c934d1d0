"""The ID-card check: a duty officer asks whether a national ID holds a valid pass now, for a person
with no phone or paper pass at hand. One service for both callers, the checkpoint app
(`POST /officers/id-check`, device-signed) and LINE 掃碼核實 (`POST /liff/api/police/id-check`).

What it reveals, and to whom (docs/id-card-check.md): only a duty officer on a station's roster may ask,
only about the ID card in front of them, and the answer is what the pass itself would show when scanned
(the verdict, the masked holder name and ID, the enterprise, the end of validity) — never the mobile, the
full name or the ID in clear. The typed ID is looked up through its keyed hash (the same one the passes
are stored under); it is not stored, logged or put in the audit log.

Each lookup is a check in the check register by that officer at that station (one register entry per
station for ID checks, as `hub.services.devices.single_check` has for LINE), and an audit event. Lookups are
throttled per officer: an officer (or a stolen phone) cannot walk through ID numbers to learn who holds a
pass. A refused try (throttled) is audited too, and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import mask_name, national_id_problem, normalize_national_id
from crypto.verify import Reason
from hub.context import context_of
from hub.db import utcnow
from hub.i18n import catalogue
from hub.models.audit import AuditEvent
from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.models.passes import Pass
from hub.models.rosters import Officer
from hub.services import audit, passes, people
from hub.services.devices.single_check import current_verdict, hub_check, register_device
from hub.services.errors import Invalid, NotAllowed, TooManyRequests
from hub.services.unit_of_work import serialise

AUDIT_ACTION = "check.id_card"
THROTTLE_WINDOW = dt.timedelta(hours=1)


class IdCardStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    INVALID = "invalid"  # a pass exists but does not verify (its key retired or compromised)
    NONE = "none"  # no pass was ever issued to this ID


STATUS_TEXT = "id_card."  # + the status: its words in the catalogue, which the checkpoint app reads too

_FROM_REASON = {
    Reason.VALID: IdCardStatus.VALID,
    Reason.REVOKED: IdCardStatus.REVOKED,
    Reason.EXPIRED: IdCardStatus.EXPIRED,
    Reason.NOT_YET_VALID: IdCardStatus.NOT_YET_VALID,
}


@dataclass(frozen=True)
class Caller:
    """The duty officer asking, resolved by the front end: an officer's roster row and its station."""

    officer: Officer
    user: User | None = None  # the LINE account, for the audit actor; None for a checkpoint device
    device_id: str | None = None  # the checkpoint device, None in LINE
    client_ip: str | None = None


@dataclass(frozen=True)
class IdCardAnswer:
    status: IdCardStatus
    holder_masked: str | None
    national_id_masked: str | None
    organisation: str | None
    expires_at: dt.datetime | None
    event_id: str

    @property
    def ok(self) -> bool:
        return self.status is IdCardStatus.VALID

    @property
    def message(self) -> str:
        return self.message_in(catalogue.DEFAULT_LANGUAGE)

    def message_in(self, language: str) -> str:
        """The answer in words, in `language` (the LIFF page's; the app words the status itself)."""
        return catalogue.text(language, STATUS_TEXT + self.status.value)


def officer_of_user(db: Session, user: User) -> Officer:
    """The roster row of a LINE officer account; anyone else is refused before any lookup."""
    officer = db.get(Officer, user.officer_id) if user.officer_id is not None else None
    if officer is None or user.role != "officer" or officer.station_id != user.org_id:
        raise NotAllowed("only a station's duty officers may check an ID card", reason="not_officer")
    return officer


def check_id_card(db: Session, caller: Caller, typed_id: str) -> IdCardAnswer:
    nid = normalize_national_id(typed_id).replace(" ", "").replace("-", "")
    problem = national_id_problem(nid, allow_old_resident=True)
    if problem is not None:
        raise Invalid(
            f"not a valid national ID ({problem.explain()})", field="national_id", reason="bad_national_id"
        )
    record = _best_pass(db, people.national_id_hash(db, nid))
    # The verdict first: it may store a fresh trust bundle in a session of its own, which must not
    # wait for the lock the throttle takes. A throttled caller is told nothing of it.
    status = _status(db, record)
    _throttle(db, caller)
    event_id = _record(db, caller, status, record)
    org = db.get(Organisation, record.org_id) if record is not None else None
    return IdCardAnswer(
        status=status,
        holder_masked=mask_name(record.holder_name) if record is not None else None,
        national_id_masked=record.masked_national_id if record is not None else None,
        organisation=org.name if org is not None else None,
        expires_at=record.expires_at if record is not None else None,
        event_id=event_id,
    )


def _throttle(db: Session, caller: Caller) -> None:
    """At most `id_card_checks_per_hour` lookups per officer in any hour. Serialised per officer, so two
    concurrent lookups cannot both take the last one."""
    limit = context_of(db).settings.id_card_checks_per_hour
    serialise(db, f"id-card-check:{caller.officer.id}")
    since = utcnow() - THROTTLE_WINDOW
    target = _target(caller)
    times = list(
        db.scalars(
            select(AuditEvent.at)
            .where(AuditEvent.action == AUDIT_ACTION, AuditEvent.target == target, AuditEvent.at >= since)
            .order_by(AuditEvent.at)
            .limit(limit)
        )
    )
    if len(times) >= limit:
        retry = int((times[0] + THROTTLE_WINDOW - utcnow()).total_seconds()) + 1
        raise TooManyRequests(
            f"at most {limit} ID-card checks an hour", retry_after=retry, reason="id_check_throttled"
        ).audited(
            f"{AUDIT_ACTION}.throttled",
            actor=caller.user,
            target=target,
            client_ip=caller.client_ip,
            station_id=caller.officer.station_id,
            device_id=caller.device_id,
        )


def _target(caller: Caller) -> str:
    return f"officer:{caller.officer.id}"


def _best_pass(db: Session, nid_hash: str) -> Pass | None:
    """The pass that decides: a valid one if any, else the latest issued (its state is the answer)."""
    now = utcnow()
    rows = list(db.scalars(select(Pass).where(Pass.national_id_hash == nid_hash)))
    valid = [p for p in rows if passes.in_force(p, now)]
    pool = valid or rows
    return max(pool, key=lambda p: (p.issued_at, p.id)) if pool else None


def _status(db: Session, record: Pass | None) -> IdCardStatus:
    if record is None:
        return IdCardStatus.NONE
    # The hub's own register first (a revocation counts before the next status list is published), then
    # the verdict a checkpoint would give the pass (a retired or compromised issuer key).
    if record.revoked_at is not None:
        return IdCardStatus.REVOKED
    now = utcnow()
    if record.expires_at <= now:
        return IdCardStatus.EXPIRED
    if record.not_before > now:
        return IdCardStatus.NOT_YET_VALID
    verdict = current_verdict(db, record.text)
    return _FROM_REASON.get(verdict.reason, IdCardStatus.INVALID)


def _record(db: Session, caller: Caller, status: IdCardStatus, record: Pass | None) -> str:
    station_id = caller.officer.station_id
    device = register_device(db, station_id, kind="id-card", name="身分證核實")
    event_id = hub_check(
        db,
        device,
        clock="idcard",
        ok=status is IdCardStatus.VALID,
        reason=f"id_card:{status.value}",
        pass_id=record.pass_id if record is not None else None,
        officer_id=str(caller.officer.id),
        issuer_kid=record.issuer_kid if record is not None else None,
        serial=record.serial if record is not None else None,
        trust_age_s=None,
        stale=False,
    ).event_id
    audit.record(
        db,
        AUDIT_ACTION,
        actor=caller.user,
        target=_target(caller),
        client_ip=caller.client_ip,
        scan=event_id,
        station_id=station_id,
        device_id=caller.device_id,
        result=status.value,
        pass_id=record.pass_id if record is not None else None,
    )
    return event_id
