"""Hub administrators (the city's 總管理者流程一): general admins with granted permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from hub.api.deps import ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.core.vocabulary import Role
from hub.services import admins
from hub.services.admins import AdminIn
from hub.services.scope import effective_permissions
from hub.web import SessionDep

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.identity import User

router = APIRouter(tags=["admins"])


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
def create_admin(body: AdminIn, scope: ScopeDep, db: SessionDep) -> AdminOut:
    """Add a general admin; the initial password goes to their mobile by SMS."""
    user = admins.create_general_admin(
        db, scope, mobile=body.mobile, name=body.name, permissions=set(body.permissions)
    )
    return AdminOut.of(user)


@router.get("/admins", response_model=list[AdminOut])
def list_admins(scope: ScopeDep, db: SessionDep) -> list[AdminOut]:
    return [AdminOut.of(u) for u in admins.list_admins(db, scope)]


@router.get("/admins/{admin_id}", response_model=AdminOut)
def get_admin(admin_id: RowId, scope: ScopeDep, db: SessionDep) -> AdminOut:
    return AdminOut.of(admins.console_admin(db, scope, admin_id))


@router.patch("/admins/{admin_id}", response_model=AdminOut)
def update_admin(admin_id: RowId, body: AdminPatch, scope: ScopeDep, db: SessionDep) -> AdminOut:
    user = admins.update_admin(
        db,
        scope,
        admin_id=admin_id,
        name=body.name,
        permissions=set(body.permissions) if body.permissions is not None else None,
        active=body.active,
    )
    return AdminOut.of(user)


@router.delete("/admins/{admin_id}", status_code=204)
def disable_admin(admin_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    """Disable (not erase: the audit log refers to it) an admin and end their sessions."""
    admins.update_admin(db, scope, admin_id=admin_id, active=False)


@router.post("/admins/{admin_id}/reset-password", status_code=204)
def reset_password(admin_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    """Send a new initial password by SMS (the admin must change it at next login)."""
    admins.reset_password(db, scope, admin_id=admin_id)
