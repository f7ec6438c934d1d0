"""Hub administrators (the city's 總管理者流程一): general admins with granted permissions."""

from __future__ import annotations

from hub.api.deps import ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import RowId
from hub.services import admins
from hub.services.admins import AdminIn, AdminOut, AdminPatch
from hub.web import SessionDep

router = APIRouter(tags=["admins"])


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
    return AdminOut.of(admins.update_admin(db, scope, admin_id=admin_id, changes=body))


@router.delete("/admins/{admin_id}", status_code=204)
def disable_admin(admin_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    """Disable (not erase: the audit log refers to it) an admin and end their sessions."""
    admins.update_admin(db, scope, admin_id=admin_id, changes=AdminPatch(active=False))


@router.post("/admins/{admin_id}/reset-password", status_code=204)
def reset_password(admin_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    """Send a new initial password by SMS (the admin must change it at next login)."""
    admins.reset_password(db, scope, admin_id=admin_id)
