"""Pass issuance and revocation (the seed's 企業流程三–四)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.orm import Session

from crypto.passes import PassClaims, encode_pass
from hub.context import context_of
from hub.db import utcnow
from hub.errors import HubError, not_found
from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.models.passes import Pass
from hub.models.rosters import Employee
from hub.services import audit
from hub.services.keys import allocate_serial, keystore
from hub.services.trust import revoke_serial


def issue_pass(
    db: Session,
    org: Organisation,
    employee: Employee,
    actor: User,
    *,
    kind: str = "employee",
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    client_ip: str | None = None,
) -> Pass:
    """Sign a TP1 pass for a whitelisted employee with the active issuer key. Flushes, doesn't commit."""
    if employee.national_id_masked is None:
        raise HubError(400, "no_national_id", "the employee has no national ID on record")
    now = utcnow().replace(microsecond=0)
    not_before = (not_before or now).astimezone(dt.UTC).replace(microsecond=0)
    default_days = context_of(db).settings.pass_default_valid_days
    expires_at = (
        (expires_at or not_before + dt.timedelta(days=default_days)).astimezone(dt.UTC).replace(microsecond=0)
    )
    if expires_at <= not_before:
        raise HubError(400, "bad_validity", "expires_at must be after not_before")
    if expires_at - not_before > dt.timedelta(days=366):
        raise HubError(400, "bad_validity", "a pass is valid for at most a year")
    if expires_at <= now:
        raise HubError(400, "bad_validity", "the pass would already be expired")
    key = keystore(db).active_issuer()
    kid_hex = key.kid.hex()
    serial = allocate_serial(db, kid_hex)
    pass_id = secrets.token_bytes(16)
    claims = PassClaims(
        pass_id=pass_id,
        issuer_kid=key.kid,
        serial=serial,
        holder_name=employee.name,
        masked_national_id=employee.national_id_masked,
        org_id=str(org.id),
        org_name=org.name,
        kind=kind,
        issued_at=int(now.timestamp()),
        not_before=int(not_before.timestamp()),
        expires_at=int(expires_at.timestamp()),
    )
    text = encode_pass(claims, key)
    record = Pass(
        pass_id=pass_id.hex(),
        org_id=org.id,
        employee_id=employee.id,
        holder_name=employee.name,
        holder_mobile=employee.mobile,
        national_id_hash=employee.national_id_hash,
        masked_national_id=employee.national_id_masked,
        kind=kind,
        issuer_kid=kid_hex,
        serial=serial,
        text=text,
        issued_at=now,
        not_before=not_before,
        expires_at=expires_at,
        issued_by=actor.id,
    )
    db.add(record)
    db.flush()
    audit.record(
        db,
        "pass.issued",
        actor=actor,
        target=f"pass:{record.pass_id}",
        client_ip=client_ip,
        org_id=org.id,
        employee_id=employee.id,
        kid=kid_hex,
        serial=serial,
    )
    return record


def get_pass(db: Session, pass_id_hex: str) -> Pass:
    from sqlalchemy import select

    record = db.scalars(select(Pass).where(Pass.pass_id == pass_id_hex.lower())).first()
    if record is None:
        raise not_found("pass")
    return record


def revoke_pass(db: Session, record: Pass, actor: User, reason: str | None, client_ip: str | None) -> int:
    """Revoke: the serial's bit is set in the issuer key's status list. Returns the new counter."""
    if record.revoked_at is not None:
        raise HubError(409, "already_revoked", "the pass is already revoked")
    counter = revoke_serial(db, record.issuer_kid, record.serial)
    record.revoked_at = utcnow()
    record.revoked_by = actor.id
    record.revoke_reason = reason
    audit.record(
        db,
        "pass.revoked",
        actor=actor,
        target=f"pass:{record.pass_id}",
        client_ip=client_ip,
        kid=record.issuer_kid,
        serial=record.serial,
        counter=counter,
    )
    return counter
