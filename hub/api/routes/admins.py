"""Hub administrators (the seed's 總管理者流程一): general admins with granted permissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from hub.api.deps import ClientIp, require_permission
from hub.core.fields import Mobile, PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.models.identity import CONSOLE_ROLES, Role, User
from hub.services import admins
from hub.services.access import effective_permissions

router = APIRouter(tags=["admins"])

AdminManager = Annotated[User, Depends(require_permission(Permission.ADMINS_MANAGE))]


class AdminIn(BaseModel):
    mobile: Mobile
    name: PersonName
    permissions: list[Permission] = Field(default_factory=list, max_length=32)


class AdminPatch(BaseModel):
    name: PersonName | None = None
    permissions: list[Permission] | None = Field(default=None, max_length=32)
    active: bool | None = None


class AdminOut(BaseModel):
    id: int
    role: Role
    name_masked: str
    mobile_masked: str
    permissions: list[str]
    active: bool
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> AdminOut:
        return cls(
            id=user.id,
            role=Role(user.role),
            name_masked=mask_name(user.name) if user.name else "",
            mobile_masked=mask_mobile(user.mobile),
            permissions=sorted(effective_permissions(user)),
            active=user.active,
            must_change_password=user.must_change_password,
        )


@router.post("/admins", response_model=AdminOut, status_code=201)
def create_admin(body: AdminIn, grantor: AdminManager, db: SessionDep, ip: ClientIp) -> AdminOut:
    """Add a general admin; the initial password goes to their mobile by SMS."""
    user = admins.create_general_admin(db, grantor, body.mobile, body.name, set(body.permissions), ip)
    return AdminOut.of(user)


@router.get("/admins", response_model=list[AdminOut])
def list_admins(_user: AdminManager, db: SessionDep) -> list[AdminOut]:
    rows = db.scalars(select(User).where(User.role.in_([r.value for r in CONSOLE_ROLES])).order_by(User.id))
    return [AdminOut.of(u) for u in rows]


@router.get("/admins/{admin_id}", response_model=AdminOut)
def get_admin(admin_id: RowId, _user: AdminManager, db: SessionDep) -> AdminOut:
    return AdminOut.of(admins.get_console_admin(db, admin_id))


@router.patch("/admins/{admin_id}", response_model=AdminOut)
def update_admin(
    admin_id: RowId, body: AdminPatch, grantor: AdminManager, db: SessionDep, ip: ClientIp
) -> AdminOut:
    target = admins.get_console_admin(db, admin_id)
    user = admins.update_admin(
        db,
        grantor,
        target,
        name=body.name,
        permissions=set(body.permissions) if body.permissions is not None else None,
        active=body.active,
        client_ip=ip,
    )
    return AdminOut.of(user)


@router.delete("/admins/{admin_id}", status_code=204)
def disable_admin(admin_id: RowId, grantor: AdminManager, db: SessionDep, ip: ClientIp) -> None:
    """Disable (not erase: the audit log refers to it) an admin and end their sessions."""
    target = admins.get_console_admin(db, admin_id)
    admins.update_admin(db, grantor, target, name=None, permissions=None, active=False, client_ip=ip)


@router.post("/admins/{admin_id}/reset-password", status_code=204)
def reset_password(admin_id: RowId, grantor: AdminManager, db: SessionDep, ip: ClientIp) -> None:
    """Send a new initial password by SMS (the admin must change it at next login)."""
    admins.reset_password(db, grantor, admins.get_console_admin(db, admin_id), ip)
