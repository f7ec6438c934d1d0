"""Enterprises: registration by their admin (mobile + SMS code) and the employee pass whitelist."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.core.fields import Mobile, NationalId, OrgName, PersonName, Ubn
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.documents.spreadsheets import EMPLOYEE_COLUMNS
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind, RegistrationClaim, ReviewState
from hub.models.rosters import Employee
from hub.services import audit, otp, passes, people
from hub.services.enterprise_scope import employee_in_scope, enterprise_in_scope
from hub.services.errors import Conflict, NotAllowed, NotFound
from hub.services.identity import revoke_all_tokens
from hub.services.imports import check_each, read_import, refuse_import
from hub.services.scope import Scope
from hub.services.unit_of_work import REPEAT_WINDOW, serialise
from hub.services.whitelist import refuse_repeats


class EnterpriseRegistration(BaseModel):
    company_name: OrgName
    ubn: Ubn
    admin_name: PersonName
    admin_mobile: Mobile
    code: str


class EmployeeIn(BaseModel):
    name: PersonName
    mobile: Mobile
    national_id: NationalId


def list_enterprises(db: Session, scope: Scope) -> list[Organisation]:
    """Hub admins with enterprises.manage see all; an enterprise admin their own; anyone else nothing."""
    query = (
        select(Organisation).where(Organisation.kind == OrgKind.ENTERPRISE.value).order_by(Organisation.id)
    )
    if scope.hub_wide:
        scope.require(Permission.ENTERPRISES_MANAGE)
    else:
        scope.require_role(Role.ENTERPRISE_ADMIN)
        query = query.where(Organisation.id == scope.own_org())
    return list(db.scalars(query))


def list_employees(db: Session, scope: Scope, *, org_id: int) -> list[Employee]:
    enterprise_in_scope(db, scope, org_id)
    rows = list(db.scalars(select(Employee).where(Employee.org_id == org_id).order_by(Employee.id)))
    audit.record(
        db,
        "query.employees",
        actor=scope.user,
        target=f"org:{org_id}",
        client_ip=scope.client_ip,
        subjects=[e.mobile for e in rows],
        results=len(rows),
    )
    return rows


@dataclass(frozen=True)
class Registered:
    org: Organisation
    admin: User
    repeat: bool = False  # the answer to an earlier request with the same code (nothing was done now)


@dataclass(frozen=True)
class HeldForReview:
    claim: RegistrationClaim


def register(db: Session, data: EnterpriseRegistration, client_ip: str | None) -> Registered | HeldForReview:
    """The city's 企業流程一: company, 統一編號, admin name and mobile, confirmed by an SMS code.

    A 統一編號 that already has an enterprise is not registered again, nor refused in silence: the claim
    is held for a hub admin's review (`decide_claim`), and the enterprise's owner is untouched.

    A used code is refused (`code_used`); a front end that answers a repeat with the first answer asks
    `earlier_registration` then (REST does not: there the code would log in a second time)."""
    otp.verify_code(db, data.admin_mobile, otp.Purpose.ENTERPRISE_REGISTRATION, data.code)
    owner = db.scalars(
        select(Organisation).where(
            Organisation.kind == OrgKind.ENTERPRISE.value, Organisation.ubn == data.ubn
        )
    ).first()
    if owner is not None:
        claim = RegistrationClaim(
            org_id=owner.id,
            ubn=data.ubn,
            company_name=data.company_name,
            admin_name=data.admin_name,
            admin_mobile=data.admin_mobile,
            state=ReviewState.PENDING.value,
        )
        db.add(claim)
        db.flush()
        audit.record(
            db,
            "enterprise.registration_held",
            target=f"org:{owner.id}",
            client_ip=client_ip,
            claim_id=claim.id,
            ubn=data.ubn,
            mobile=mask_mobile(data.admin_mobile),
        )
        return HeldForReview(claim)
    org = Organisation(
        kind=OrgKind.ENTERPRISE.value,
        name=data.company_name,
        ubn=data.ubn,
        contact_name=data.admin_name,
        contact_phone=data.admin_mobile,
    )
    db.add(org)
    db.flush()
    admin = User(
        mobile=data.admin_mobile,
        name=data.admin_name,
        role=Role.ENTERPRISE_ADMIN.value,
        org_id=org.id,
        permissions=[],
    )
    db.add(admin)
    db.flush()
    audit.record(
        db,
        "enterprise.registered",
        actor=admin,
        target=f"org:{org.id}",
        client_ip=client_ip,
        ubn=data.ubn,
        mobile=mask_mobile(data.admin_mobile),
    )
    return Registered(org, admin)


def earlier_registration(db: Session, data: EnterpriseRegistration) -> Registered | HeldForReview | None:
    """After `register` refused a used code: what the request that used it did, if this is a repeat of
    it (the same code, mobile and 統一編號: a double tap). None otherwise."""
    used = otp.repeated_code(db, data.admin_mobile, otp.Purpose.ENTERPRISE_REGISTRATION, data.code)
    if used is None:
        return None
    claim = db.scalars(
        select(RegistrationClaim)
        .where(
            RegistrationClaim.ubn == data.ubn,
            RegistrationClaim.admin_mobile == data.admin_mobile,
            RegistrationClaim.created_at >= used.created_at,
        )
        .order_by(RegistrationClaim.id.desc())
    ).first()
    if claim is not None:
        return HeldForReview(claim)
    row = db.execute(
        select(Organisation, User)
        .join(User, User.org_id == Organisation.id)
        .where(
            Organisation.kind == OrgKind.ENTERPRISE.value,
            Organisation.ubn == data.ubn,
            User.mobile == data.admin_mobile,
            User.role == Role.ENTERPRISE_ADMIN.value,
        )
    ).first()
    return Registered(row[0], row[1], repeat=True) if row is not None else None


def list_claims(
    db: Session, scope: Scope, *, state: ReviewState | None = ReviewState.PENDING
) -> list[RegistrationClaim]:
    """Registrations held for review (hub admins with enterprises.manage), oldest first."""
    _reviewer(scope)
    query = select(RegistrationClaim).order_by(RegistrationClaim.id)
    if state is not None:
        query = query.where(RegistrationClaim.state == state.value)
    return list(db.scalars(query))


def decide_claim(db: Session, scope: Scope, *, claim_id: int, approve: bool) -> RegistrationClaim:
    """Approve (the claimant becomes another admin of the enterprise, logging in by SMS code) or refuse
    (nothing changes). A claim is decided once."""
    _reviewer(scope)
    claim = db.get(RegistrationClaim, claim_id)
    if claim is None:
        raise NotFound("registration")
    if claim.state != ReviewState.PENDING.value:
        raise Conflict(reason="already_decided", detail=f"this registration was already {claim.state}")
    claim.state = (ReviewState.APPROVED if approve else ReviewState.REFUSED).value
    claim.decided_at = utcnow()
    claim.decided_by = scope.user.id
    admin_id = None
    if approve:
        admin = db.scalars(
            select(User).where(
                User.mobile == claim.admin_mobile,
                User.role == Role.ENTERPRISE_ADMIN.value,
                User.org_id == claim.org_id,
            )
        ).first()
        if admin is None:
            admin = User(
                mobile=claim.admin_mobile,
                name=claim.admin_name,
                role=Role.ENTERPRISE_ADMIN.value,
                org_id=claim.org_id,
                permissions=[],
                created_by=scope.user.id,
            )
            db.add(admin)
            db.flush()
        admin_id = admin.id
    audit.record(
        db,
        f"enterprise.registration_{claim.state}",
        actor=scope.user,
        target=f"org:{claim.org_id}",
        client_ip=scope.client_ip,
        claim_id=claim.id,
        admin_user_id=admin_id,
    )
    return claim


def _reviewer(scope: Scope) -> None:
    if not scope.hub_wide:
        raise NotAllowed("only hub admins review registrations")
    scope.require(Permission.ENTERPRISES_MANAGE)


def _check_employee_free(
    db: Session, org_id: int, mobile: str, nid_hash: str, exclude: int | None = None
) -> None:
    fields = [(Employee.mobile, mobile, "mobile"), (Employee.national_id_hash, nid_hash, "national ID")]
    refuse_repeats(db, Employee, Employee.org_id == org_id, fields, who="an employee", exclude=exclude)


def add_employee(db: Session, scope: Scope, *, org_id: int, data: EmployeeIn) -> Employee:
    """Put an employee on the enterprise's pass whitelist. The same entry again within REPEAT_WINDOW
    (a double submit) is the one just added, not a duplicate."""
    org = enterprise_in_scope(db, scope, org_id)
    serialise(db, f"whitelist:{org.id}")
    nid_hash = people.national_id_hash(db, data.national_id)
    repeat = _just_added(db, org.id, data.name, data.mobile, nid_hash)
    if repeat is not None:
        return repeat
    _check_employee_free(db, org.id, data.mobile, nid_hash)
    employee = Employee(org_id=org.id, name=data.name, mobile=data.mobile)
    people.set_national_id(db, employee, data.national_id)
    db.add(employee)
    db.flush()
    audit.record(
        db,
        "employee.added",
        actor=scope.user,
        target=f"employee:{employee.id}",
        client_ip=scope.client_ip,
        org_id=org.id,
    )
    return employee


def _just_added(db: Session, org_id: int, name: str, mobile: str, nid_hash: str) -> Employee | None:
    """An identical whitelist entry added within REPEAT_WINDOW: what a repeated request added."""
    return db.scalars(
        select(Employee).where(
            Employee.org_id == org_id,
            Employee.name == name,
            Employee.mobile == mobile,
            Employee.national_id_hash == nid_hash,
            Employee.created_at >= utcnow() - REPEAT_WINDOW,
        )
    ).first()


def update_employee(
    db: Session, scope: Scope, *, org_id: int, employee_id: int, changes: dict[str, str]
) -> Employee:
    employee = employee_in_scope(db, scope, org_id=org_id, employee_id=employee_id)
    mobile = changes.get("mobile", employee.mobile)
    nid_hash = (
        people.national_id_hash(db, changes["national_id"])
        if "national_id" in changes
        else employee.national_id_hash or ""
    )
    _check_employee_free(db, employee.org_id, mobile, nid_hash, exclude=employee.id)
    if "name" in changes:
        employee.name = changes["name"]
        for account in db.scalars(select(User).where(User.employee_id == employee.id)):
            account.name = employee.name
    if "mobile" in changes and mobile != employee.mobile:
        employee.mobile = mobile
        _account_follows(db, employee.id, mobile)
    if "national_id" in changes:
        people.set_national_id(db, employee, changes["national_id"])
    audit.record(
        db,
        "employee.updated",
        actor=scope.user,
        target=f"employee:{employee.id}",
        client_ip=scope.client_ip,
        fields=sorted(changes),
    )
    return employee


def _account_follows(db: Session, employee_id: int, mobile: str) -> None:
    """The employee's login account moves to the new number and its sessions end: whoever holds the old
    number is no longer this employee (officers and station admins are handled the same way)."""
    for user in db.scalars(select(User).where(User.employee_id == employee_id)):
        user.mobile = mobile
        revoke_all_tokens(db, user.id)


def end_employee_sessions(db: Session, employee_id: int) -> None:
    """End every session of the employee's login account."""
    for user_id in db.scalars(select(User.id).where(User.employee_id == employee_id)):
        revoke_all_tokens(db, user_id)


def delete_employee(db: Session, scope: Scope, *, org_id: int, employee_id: int) -> None:
    """Take the employee off the whitelist. Their login account and its sessions go with it (ON DELETE
    CASCADE); their passes stay in the register (employee_id SET NULL) but are revoked: a pass follows
    the person, and the person is no longer the enterprise's."""
    serialise(db, f"whitelist:{org_id}")  # a second delete at once finds it gone, not half there
    employee = employee_in_scope(db, scope, org_id=org_id, employee_id=employee_id)
    revoked = passes.revoke_passes_of(db, scope, employee_id=employee.id, reason="employee removed")
    end_employee_sessions(db, employee.id)
    db.delete(employee)
    audit.record(
        db,
        "employee.deleted",
        actor=scope.user,
        target=f"employee:{employee.id}",
        client_ip=scope.client_ip,
        passes_revoked=revoked,
    )


def import_employees(db: Session, scope: Scope, *, org_id: int, data: bytes) -> list[Employee]:
    """Batch whitelist from .xlsx: every row or none."""
    org = enterprise_in_scope(db, scope, org_id)
    serialise(db, f"whitelist:{org.id}")
    # Repeats within the file are found by the reader; clashes with the whitelist here.
    good, errors, total = read_import(data, EMPLOYEE_COLUMNS, EmployeeIn)
    # the same file again at once (a double submit): the rows the first import added
    again = [
        _just_added(db, org.id, r.name, r.mobile, people.national_id_hash(db, r.national_id))
        for _n, r in good
    ]
    if good and not errors and all(e is not None for e in again):
        return [e for e in again if e is not None]

    def check(row: EmployeeIn) -> None:
        _check_employee_free(db, org.id, row.mobile, people.national_id_hash(db, row.national_id))

    errors += check_each(good, check)
    if errors:
        raise refuse_import(
            errors, total, actor=scope.user, client_ip=scope.client_ip, kind="employees", org_id=org.id
        )
    created = []
    for _number, row in good:
        employee = Employee(org_id=org.id, name=row.name, mobile=row.mobile)
        people.set_national_id(db, employee, row.national_id)
        db.add(employee)
        created.append(employee)
    db.flush()
    audit.record(
        db, "import.employees", actor=scope.user, client_ip=scope.client_ip, org_id=org.id, rows=len(created)
    )
    return created
