"""Enterprises (the seed's 企業流程一, 三): registration and the employee pass whitelist."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import select

from hub.api.deps import ClientIp, CurrentUser
from hub.api.routes._common import XLSX_RESPONSE, Upload, patch_changes, template_response
from hub.api.routes.auth import TokenOut, UserOut
from hub.core.fields import Mobile, NationalId, PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.documents.spreadsheets import EMPLOYEE_COLUMNS
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.models.rosters import Employee
from hub.services import audit, enterprises, identity
from hub.services.access import has_permission, is_hub_admin, require_org_access

router = APIRouter(tags=["enterprises"])


class EnterpriseOut(BaseModel):
    id: int
    name: str
    ubn: str | None
    address: str | None

    @classmethod
    def of(cls, org: Organisation) -> EnterpriseOut:
        return cls(id=org.id, name=org.name, ubn=org.ubn, address=org.address)


class RegisteredOut(TokenOut):
    enterprise: EnterpriseOut


class EmployeeOut(BaseModel):
    id: int
    org_id: int
    name_masked: str
    mobile_masked: str
    national_id_masked: str | None

    @classmethod
    def of(cls, e: Employee) -> EmployeeOut:
        return cls(
            id=e.id,
            org_id=e.org_id,
            name_masked=mask_name(e.name),
            mobile_masked=mask_mobile(e.mobile),
            national_id_masked=e.national_id_masked,
        )


class EmployeePatch(BaseModel):
    name: PersonName | None = None
    mobile: Mobile | None = None
    national_id: NationalId | None = None


def enterprise_for(db: SessionDep, user: User, org_id: int) -> Organisation:
    """The enterprise, if `user` is its admin or a hub admin with enterprises.manage."""
    org = enterprises.get_enterprise(db, org_id)
    if Role(user.role) not in (Role.ENTERPRISE_ADMIN, Role.SUPER_ADMIN, Role.GENERAL_ADMIN):
        raise HubError(403, "forbidden", "only enterprise admins manage the whitelist")
    require_org_access(user, org_id, Permission.ENTERPRISES_MANAGE if user.org_id != org_id else None)
    return org


@router.post("/enterprises/register", response_model=RegisteredOut, status_code=201)
def register(body: enterprises.EnterpriseRegistration, db: SessionDep, ip: ClientIp) -> RegisteredOut:
    """Company name, 統一編號, admin name and mobile, and the SMS code sent to that mobile (purpose
    `enterprise_registration`). Creates the enterprise and logs its admin in."""
    org, admin = enterprises.register(db, body, ip)
    token, expires_at = identity.issue_token(db, admin, ip)
    db.commit()
    return RegisteredOut(
        token=token,
        expires_at=expires_at,
        must_change_password=False,
        user=UserOut.of(admin),
        enterprise=EnterpriseOut.of(org),
    )


@router.get("/enterprises", response_model=list[EnterpriseOut])
def list_enterprises(user: CurrentUser, db: SessionDep) -> list[EnterpriseOut]:
    """Hub admins with enterprises.manage see all; an enterprise admin sees their own."""
    query = (
        select(Organisation).where(Organisation.kind == OrgKind.ENTERPRISE.value).order_by(Organisation.id)
    )
    if not (is_hub_admin(user) and has_permission(user, Permission.ENTERPRISES_MANAGE)):
        if Role(user.role) is not Role.ENTERPRISE_ADMIN:
            raise HubError(403, "forbidden", "needs permission enterprises.manage")
        query = query.where(Organisation.id == user.org_id)
    return [EnterpriseOut.of(o) for o in db.scalars(query)]


@router.get("/enterprises/{org_id}", response_model=EnterpriseOut)
def get_enterprise(org_id: RowId, user: CurrentUser, db: SessionDep) -> EnterpriseOut:
    return EnterpriseOut.of(enterprise_for(db, user, org_id))


@router.get("/enterprises/{org_id}/employees", response_model=list[EmployeeOut])
def list_employees(org_id: RowId, user: CurrentUser, db: SessionDep, ip: ClientIp) -> list[EmployeeOut]:
    enterprise_for(db, user, org_id)
    rows = [
        EmployeeOut.of(e)
        for e in db.scalars(select(Employee).where(Employee.org_id == org_id).order_by(Employee.id))
    ]
    audit.record(db, "query.employees", actor=user, target=f"org:{org_id}", client_ip=ip, results=len(rows))
    db.commit()
    return rows


@router.post("/enterprises/{org_id}/employees", response_model=EmployeeOut, status_code=201)
def add_employee(
    org_id: RowId, body: enterprises.EmployeeIn, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> EmployeeOut:
    """Put an employee on the pass whitelist (name, mobile, national ID)."""
    org = enterprise_for(db, user, org_id)
    employee = enterprises.add_employee(db, org, body, user, ip)
    db.commit()
    return EmployeeOut.of(employee)


@router.patch("/enterprises/{org_id}/employees/{employee_id}", response_model=EmployeeOut)
def update_employee(
    org_id: RowId, employee_id: RowId, body: EmployeePatch, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> EmployeeOut:
    org = enterprise_for(db, user, org_id)
    changes = patch_changes(body)
    employee = enterprises.update_employee(
        db, enterprises.get_employee(db, org, employee_id), changes, user, ip
    )
    db.commit()
    return EmployeeOut.of(employee)


@router.delete("/enterprises/{org_id}/employees/{employee_id}", status_code=204)
def delete_employee(
    org_id: RowId, employee_id: RowId, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> None:
    """Remove from the whitelist. Issued passes stay valid until revoked (revoke them explicitly)."""
    org = enterprise_for(db, user, org_id)
    enterprises.delete_employee(db, enterprises.get_employee(db, org, employee_id), user, ip)
    db.commit()


@router.get(
    "/enterprises/{org_id}/employees/import-template.xlsx", response_class=Response, responses=XLSX_RESPONSE
)
def employee_template(org_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    enterprise_for(db, user, org_id)
    return template_response(EMPLOYEE_COLUMNS, "employees")


@router.post("/enterprises/{org_id}/employees/import", status_code=201)
def import_employees(
    org_id: RowId, upload: Upload, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> dict[str, int]:
    """Batch .xlsx: columns 姓名 / 手機 / 身分證. Any bad row refuses the whole file (422, per-row report)."""
    org = enterprise_for(db, user, org_id)
    created = enterprises.import_employees(db, org, upload, user, ip)
    db.commit()
    return {"imported": len(created)}
