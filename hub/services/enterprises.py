"""Enterprises: registration by their admin (mobile + SMS code) and the employee pass whitelist."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.core.fields import Mobile, NationalId, OrgName, PersonName, Ubn
from hub.documents.spreadsheets import EMPLOYEE_COLUMNS
from hub.errors import HubError, not_found
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.models.rosters import Employee
from hub.services import audit, otp, people
from hub.services.imports import check_each, read_import, refuse_import
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


def get_enterprise(db: Session, org_id: int) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.ENTERPRISE:
        raise not_found("enterprise")
    return org


def register(db: Session, data: EnterpriseRegistration, client_ip: str | None) -> tuple[Organisation, User]:
    """The seed's 企業流程一: company, 統一編號, admin name and mobile, confirmed by an SMS code."""
    otp.verify_code(db, data.admin_mobile, otp.Purpose.ENTERPRISE_REGISTRATION, data.code)
    if (
        db.scalars(
            select(Organisation).where(
                Organisation.kind == OrgKind.ENTERPRISE.value, Organisation.ubn == data.ubn
            )
        ).first()
        is not None
    ):
        db.rollback()
        raise HubError(409, "already_registered", "an enterprise with this 統一編號 is registered")
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
    return org, admin


def _check_employee_free(
    db: Session, org_id: int, mobile: str, nid_hash: str, exclude: int | None = None
) -> None:
    fields = [(Employee.mobile, mobile, "mobile"), (Employee.national_id_hash, nid_hash, "national ID")]
    refuse_repeats(db, Employee, Employee.org_id == org_id, fields, who="an employee", exclude=exclude)


def add_employee(
    db: Session, org: Organisation, data: EmployeeIn, actor: User, client_ip: str | None
) -> Employee:
    _check_employee_free(db, org.id, data.mobile, people.national_id_hash(db, data.national_id))
    employee = Employee(org_id=org.id, name=data.name, mobile=data.mobile)
    people.set_national_id(db, employee, data.national_id)
    db.add(employee)
    db.flush()
    audit.record(
        db,
        "employee.added",
        actor=actor,
        target=f"employee:{employee.id}",
        client_ip=client_ip,
        org_id=org.id,
    )
    return employee


def get_employee(db: Session, org: Organisation, employee_id: int) -> Employee:
    employee = db.get(Employee, employee_id)
    if employee is None or employee.org_id != org.id:
        raise not_found("employee")
    return employee


def update_employee(
    db: Session, employee: Employee, changes: dict[str, str], actor: User, client_ip: str | None
) -> Employee:
    mobile = changes.get("mobile", employee.mobile)
    nid_hash = (
        people.national_id_hash(db, changes["national_id"])
        if "national_id" in changes
        else employee.national_id_hash or ""
    )
    _check_employee_free(db, employee.org_id, mobile, nid_hash, exclude=employee.id)
    if "name" in changes:
        employee.name = changes["name"]
    if "mobile" in changes:
        employee.mobile = mobile
    if "national_id" in changes:
        people.set_national_id(db, employee, changes["national_id"])
    audit.record(
        db,
        "employee.updated",
        actor=actor,
        target=f"employee:{employee.id}",
        client_ip=client_ip,
        fields=sorted(changes),
    )
    return employee


def delete_employee(db: Session, employee: Employee, actor: User, client_ip: str | None) -> None:
    # The employee's login account and its sessions go with it (ON DELETE CASCADE); passes stay in the
    # register (employee_id SET NULL) and stay valid until revoked.
    db.delete(employee)
    audit.record(db, "employee.deleted", actor=actor, target=f"employee:{employee.id}", client_ip=client_ip)


def import_employees(
    db: Session, org: Organisation, data: bytes, actor: User, client_ip: str | None
) -> list[Employee]:
    # Repeats within the file are found by the reader; clashes with the whitelist here.
    good, errors, total = read_import(data, EMPLOYEE_COLUMNS, EmployeeIn)

    def check(row: EmployeeIn) -> None:
        _check_employee_free(db, org.id, row.mobile, people.national_id_hash(db, row.national_id))

    errors += check_each(good, check)
    if errors:
        raise refuse_import(
            db, errors, total, actor=actor, client_ip=client_ip, kind="employees", org_id=org.id
        )
    created = []
    for _number, row in good:
        employee = Employee(org_id=org.id, name=row.name, mobile=row.mobile)
        people.set_national_id(db, employee, row.national_id)
        db.add(employee)
        created.append(employee)
    db.flush()
    audit.record(db, "import.employees", actor=actor, client_ip=client_ip, org_id=org.id, rows=len(created))
    return created
