"""Passes (the city's 企業流程三–四): issue, supersede, read, print, revoke.

Who may do what is decided here, with the caller's Scope (hub.services.scope):
- an enterprise's admin, and hub admins with enterprises.manage, issue and list the enterprise's passes
  and read their full `TP1:` text (they hand the passes out);
- the holder (an employee) reads their own passes, text included;
- hub admins with passes.revoke or query.passes see a pass's register entry, never its usable text;
- every read of a pass's text (JSON, PNG, PDF) is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from crypto.passes import PassClaims, encode_pass
from hub.context import context_of
from hub.core.fields import Moment, PlainText, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.models.identity import Role, User
from hub.models.organisations import Organisation
from hub.models.passes import Pass
from hub.models.rosters import Employee
from hub.services import audit
from hub.services.enterprise_scope import employee_in_scope, enterprise_in_scope
from hub.services.errors import Conflict, Invalid, NotAllowed, NotFound, Rejected
from hub.services.keys import allocate_serial, keystore
from hub.services.scope import Scope
from hub.services.trust import revoke_serial
from hub.services.unit_of_work import serialise

# Passes in one enterprise sheet (a request): rendering costs ~15 ms a pass (QR and vector drawing, one
# core, measured 2026-11-25), so 250 stay near 4 s with room for a busy server; within the document
# module's own cap (hub.documents.pass_sheet.MAX_PASSES).
SHEET_PART_PASSES = 250

# Hub-wide permissions that show a pass's register entry (not its text).
_REGISTER_READERS = (Permission.ENTERPRISES_MANAGE, Permission.PASSES_REVOKE, Permission.QUERY_PASSES)

# Employees in one issuing request: all of them or none, in one transaction, each pass signed (~ms).
MAX_BATCH = 500

PassKind = Literal["employee", "vehicle"]


class PassRequest(BaseModel):
    """What an issuer asks for, whichever front end they use (validated before anything is written)."""

    kind: PassKind = "employee"
    not_before: Moment | None = None
    expires_at: Moment | None = None
    keep_previous: bool = Field(
        default=False,
        description="keep the employee's earlier valid pass of this kind (by default a new pass revokes it)",
    )


class BatchPassRequest(PassRequest):
    employee_ids: list[RowId] = Field(min_length=1, max_length=MAX_BATCH)


class RevokeRequest(BaseModel):
    # Required; a blank one reaches `revoke_reason`, which refuses it in the same words everywhere.
    reason: PlainText = Field(max_length=200, description="why the pass is revoked (not blank)")


# What is shown of a pass, whoever reads its register entry: the holder masked. Its usable `text` only
# where the caller may have it (`may_read_text`: its holder and its issuers); the front end passes it.
class PassOut(BaseModel):
    pass_id: str
    org_id: int
    employee_id: int | None
    holder_name_masked: str
    holder_mobile_masked: str
    masked_national_id: str
    kind: str
    issuer_kid: str
    serial: int
    issued_at: dt.datetime
    not_before: dt.datetime
    expires_at: dt.datetime
    revoked: bool
    revoked_at: dt.datetime | None
    revoke_reason: str | None = None
    text: str | None = None  # the "TP1:..." QR content; only for its holder and its issuers

    @classmethod
    def of(cls, p: Pass, *, text: str | None = None) -> PassOut:
        return cls(
            pass_id=p.pass_id,
            org_id=p.org_id,
            employee_id=p.employee_id,
            holder_name_masked=mask_name(p.holder_name),
            holder_mobile_masked=mask_mobile(p.holder_mobile),
            masked_national_id=p.masked_national_id,
            kind=p.kind,
            issuer_kid=p.issuer_kid,
            serial=p.serial,
            issued_at=p.issued_at,
            not_before=p.not_before,
            expires_at=p.expires_at,
            revoked=p.revoked_at is not None,
            revoked_at=p.revoked_at,
            revoke_reason=p.revoke_reason,
            text=text,
        )


def valid_now(record: Pass, now: dt.datetime | None = None) -> bool:
    """ "Is this pass valid now": neither revoked nor expired. One not yet in force counts (its holder
    keeps it, it will be); `in_force` is what a checkpoint accepts now. `valid_clause` is the same rule
    in SQL."""
    return record.revoked_at is None and (now or utcnow()) < record.expires_at


def valid_clause(now: dt.datetime | None = None) -> tuple[ColumnElement[bool], ...]:
    """`valid_now` as a query's conditions on `Pass`."""
    return (Pass.revoked_at.is_(None), Pass.expires_at > (now or utcnow()))


def in_force(record: Pass, now: dt.datetime | None = None) -> bool:
    """Valid now and already in force (`not_before` passed)."""
    now = now or utcnow()
    return valid_now(record, now) and record.not_before <= now


def revoke_reason(reason: str | None) -> str:
    """A revoke says why (kept on the pass and in the audit log): a blank reason is refused, whichever
    front end asks (REST, the console, LINE); the rest (length, no control characters) is the input
    model's (`RevokeRequest`, ValidationError)."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            "a revoke needs a reason",
            field="reason",
            reason="reason_required",
            message_key="passes.need_reason",
        )
    return RevokeRequest(reason=reason).reason


def pass_org_id(org: Organisation) -> str:
    """What a pass names as its organisation: the enterprise's 統一編號, never an internal row id (a
    checkpoint officer compares it with the company's papers)."""
    if not org.ubn:
        raise Invalid(reason="no_ubn", detail="the organisation has no 統一編號 to print on its passes")
    return org.ubn


def sign_pass(
    db: Session,
    *,
    org: Organisation,
    employee: Employee,
    actor: User | None,
    kind: str = "employee",
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    client_ip: str | None = None,
) -> Pass:
    """Sign a TP1 pass for a whitelisted employee with the active issuer key and flush it (no access
    check: callers are `issue_pass` and the demo seeder)."""
    if employee.national_id_masked is None:
        raise Invalid(reason="no_national_id", detail="the employee has no national ID on record")
    now = utcnow().replace(microsecond=0)
    not_before = (not_before or now).astimezone(dt.UTC).replace(microsecond=0)
    default_days = context_of(db).settings.pass_default_valid_days
    expires_at = (
        (expires_at or not_before + dt.timedelta(days=default_days)).astimezone(dt.UTC).replace(microsecond=0)
    )
    if expires_at <= not_before:
        raise Invalid(reason="bad_validity", detail="expires_at must be after not_before", field="expires_at")
    if expires_at - not_before > dt.timedelta(days=366):
        raise Invalid(reason="bad_validity", detail="a pass is valid for at most a year", field="expires_at")
    if expires_at <= now:
        raise Invalid(reason="bad_validity", detail="the pass would already be expired", field="expires_at")
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
        org_id=pass_org_id(org),
        org_name=org.name,
        kind=kind,
        issued_at=int(now.timestamp()),
        not_before=int(not_before.timestamp()),
        expires_at=int(expires_at.timestamp()),
    )
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
        text=encode_pass(claims, key),
        issued_at=now,
        not_before=not_before,
        expires_at=expires_at,
        issued_by=actor.id if actor is not None else None,
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


def issue_passes(
    db: Session,
    scope: Scope,
    *,
    org_id: int,
    employee_ids: Sequence[int],
    kind: str = "employee",
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    keep_previous: bool = False,
) -> list[Pass]:
    """Issue a pass to each employee (all or none). A new pass supersedes (revokes) the employee's
    earlier valid pass of the same kind, unless `keep_previous`: one person, one pass of a kind.

    Issuing is serialised per enterprise, so that two requests at once never leave a person with two
    valid passes of a kind or revoke one pass twice (a new pass for someone is a deliberate reissue;
    `issue_missing_passes` is the request a repeat must not redo)."""
    org = enterprise_in_scope(db, scope, org_id)
    serialise(db, f"passes:{org.id}")
    issued = []
    for employee_id in dict.fromkeys(employee_ids):
        employee = employee_in_scope(db, scope, org_id=org_id, employee_id=employee_id)
        earlier = [] if keep_previous else _valid_passes(db, employee_id=employee.id, kind=kind)
        record = sign_pass(
            db,
            org=org,
            employee=employee,
            actor=scope.user,
            kind=kind,
            not_before=not_before,
            expires_at=expires_at,
            client_ip=scope.client_ip,
        )
        for old in earlier:
            _revoke(db, scope, old, f"superseded by {record.pass_id}")
        issued.append(record)
    return issued


def issue_missing_passes(db: Session, scope: Scope, *, org_id: int, kind: str = "employee") -> list[Pass]:
    """申請通行碼 for everyone on the enterprise's whitelist without a valid pass. Who is missing one is
    decided inside the enterprise's lock: of two requests at once (a double tap, two admins), the
    second finds nobody missing and issues nothing."""
    enterprise_in_scope(db, scope, org_id)
    serialise(db, f"passes:{org_id}")
    covered = select(Pass.employee_id).where(
        Pass.org_id == org_id, Pass.employee_id.is_not(None), *valid_clause()
    )
    missing = list(
        db.scalars(
            select(Employee.id)
            .where(Employee.org_id == org_id, Employee.id.not_in(covered))
            .order_by(Employee.id)
        )
    )
    return issue_passes(db, scope, org_id=org_id, employee_ids=missing, kind=kind) if missing else []


def issue_pass(
    db: Session,
    scope: Scope,
    *,
    org_id: int,
    employee_id: int,
    kind: str = "employee",
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    keep_previous: bool = False,
) -> Pass:
    (record,) = issue_passes(
        db,
        scope,
        org_id=org_id,
        employee_ids=[employee_id],
        kind=kind,
        not_before=not_before,
        expires_at=expires_at,
        keep_previous=keep_previous,
    )
    return record


def _valid_passes(db: Session, *, employee_id: int, kind: str | None = None) -> list[Pass]:
    query = select(Pass).where(Pass.employee_id == employee_id, *valid_clause())
    if kind is not None:
        query = query.where(Pass.kind == kind)
    return list(db.scalars(query.order_by(Pass.id)))


def may_read_text(scope: Scope, record: Pass) -> bool:
    """Whether `scope` may have the pass's usable `TP1:` text: its holder, or whoever issues the
    enterprise's passes (its admin, hub admins with enterprises.manage)."""
    if scope.employee_id is not None and record.employee_id == scope.employee_id:
        return True
    if scope.hub_wide:
        return scope.can(Permission.ENTERPRISES_MANAGE)
    return scope.role is Role.ENTERPRISE_ADMIN and scope.member_of(record.org_id)


_PASS_BY_ID = select(Pass).where(Pass.pass_id == bindparam("pass_id"))  # built once: every pass read


def _find(db: Session, pass_id: str) -> Pass:
    if len(pass_id) != 32:
        raise NotFound("pass")
    record = db.scalars(_PASS_BY_ID, {"pass_id": pass_id.lower()}).first()
    if record is None:
        raise NotFound("pass")
    return record


def visible_pass(db: Session, scope: Scope, pass_id: str) -> Pass:
    """A pass the caller may see: its holder, its enterprise's admin, or a hub admin with a pass
    permission. Anyone else gets NotFound, never NotAllowed: its existence is not theirs to know."""
    record = _find(db, pass_id)
    if may_read_text(scope, record):
        return record
    if scope.hub_wide and any(scope.can(p) for p in _REGISTER_READERS):
        return record
    raise NotFound("pass")


@dataclass(frozen=True)
class PassRead:
    record: Pass
    text: str | None  # the `TP1:` text, only for those who may have it


def read_pass(db: Session, scope: Scope, *, pass_id: str, form: str) -> PassRead:
    """One pass as the caller may see it; audited (a pass carries its holder's name)."""
    record = visible_pass(db, scope, pass_id)
    with_text = may_read_text(scope, record)
    audit.record(
        db,
        "pass.read",
        actor=scope.user,
        target=f"pass:{record.pass_id}",
        client_ip=scope.client_ip,
        subjects=[record.holder_mobile],
        form=form,
        text=with_text,
    )
    return PassRead(record, record.text if with_text else None)


def pass_text(db: Session, scope: Scope, *, pass_id: str, form: str) -> Pass:
    """The pass for an image or a printout of its QR (which is its text): only for those who may have
    the text; audited."""
    read = read_pass(db, scope, pass_id=pass_id, form=form)
    if read.text is None:
        raise NotAllowed(reason="forbidden", detail="only the holder and the pass's issuers get its text")
    return read.record


def list_passes(db: Session, scope: Scope, *, org_id: int, active_only: bool = False) -> list[Pass]:
    enterprise_in_scope(db, scope, org_id)
    query = select(Pass).where(Pass.org_id == org_id).order_by(Pass.id)
    if active_only:
        query = query.where(Pass.revoked_at.is_(None))
    rows = list(db.scalars(query))
    audit.record(
        db,
        "query.enterprise_passes",
        actor=scope.user,
        target=f"org:{org_id}",
        client_ip=scope.client_ip,
        subjects=[p.holder_mobile for p in rows],
        results=len(rows),
    )
    return rows


def my_passes(db: Session, scope: Scope) -> list[Pass]:
    """An employee's own passes (the city's 下載 / 出示 / 列印 通行碼); audited."""
    if scope.employee_id is None:
        raise NotAllowed(reason="forbidden", detail="only employees hold passes")
    rows = list(db.scalars(select(Pass).where(Pass.employee_id == scope.employee_id).order_by(Pass.id)))
    audit.record(db, "pass.read", actor=scope.user, client_ip=scope.client_ip, form="own", results=len(rows))
    return rows


def sheet_passes(db: Session, scope: Scope, *, org_id: int, part: int | None) -> list[Pass]:
    """The enterprise's valid passes for printing, SHEET_PART_PASSES at a time (`part` from 1); audited."""
    enterprise_in_scope(db, scope, org_id)
    if part is not None and part < 1:  # REST's query already refuses it; a console URL does not
        raise Invalid("parts are counted from 1", field="part")
    valid = (Pass.org_id == org_id, *valid_clause())
    total = db.scalar(select(func.count()).select_from(Pass).where(*valid)) or 0
    if not total:
        raise NotFound(reason="not_found", detail="no valid passes to print")
    parts = -(-total // SHEET_PART_PASSES)
    if part is None and parts > 1:
        raise Rejected(
            reason="too_many_passes",
            detail=f"{total} valid passes; one sheet holds at most {SHEET_PART_PASSES}: download it in "
            f"{parts} parts, ?part=1 to ?part={parts} (passes in issue order)",
            field="part",
            params={"max": SHEET_PART_PASSES},
        )
    if part is not None and part > parts:
        raise NotFound(reason="not_found", detail=f"there are {parts} parts of {SHEET_PART_PASSES} passes")
    rows = list(
        db.scalars(
            select(Pass)
            .where(*valid)
            .order_by(Pass.id)
            .offset(((part or 1) - 1) * SHEET_PART_PASSES)
            .limit(SHEET_PART_PASSES)
        )
    )
    audit.record(
        db,
        "pass.read",
        actor=scope.user,
        target=f"org:{org_id}",
        client_ip=scope.client_ip,
        subjects=[p.holder_mobile for p in rows],
        form="pdf",
        results=len(rows),
    )
    return rows


def revoke_pass(db: Session, scope: Scope, *, pass_id: str, reason: str | None) -> Pass:
    """Revoke: the serial's bit is set in the issuer key's status list, which checkpoints fetch. A blank
    reason is refused (`revoke_reason`)."""
    reason = revoke_reason(reason)
    record = visible_pass(db, scope, pass_id)
    scope.require(Permission.PASSES_REVOKE)
    if record.revoked_at is not None:
        raise Conflict(reason="already_revoked", detail="the pass is already revoked")
    _revoke(db, scope, record, reason)
    return record


def revoke_passes_of(db: Session, scope: Scope, *, employee_id: int, reason: str) -> int:
    """Revoke every valid pass of an employee (taken off the whitelist); returns how many."""
    earlier = _valid_passes(db, employee_id=employee_id)
    for record in earlier:
        _revoke(db, scope, record, reason)
    return len(earlier)


def _revoke(db: Session, scope: Scope, record: Pass, reason: str | None) -> int:
    counter = revoke_serial(db, record.issuer_kid, record.serial)
    record.revoked_at = utcnow()
    record.revoked_by = scope.user.id
    record.revoke_reason = reason
    audit.record(
        db,
        "pass.revoked",
        actor=scope.user,
        target=f"pass:{record.pass_id}",
        client_ip=scope.client_ip,
        kid=record.issuer_kid,
        serial=record.serial,
        counter=counter,
    )
    return counter
