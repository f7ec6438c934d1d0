"""Police stations and their admins (the seed's 總管理者流程二 and 警局 registration)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel
from sqlalchemy import select

from hub.api.deps import ClientIp, CurrentUser, require_permission
from hub.api.routes._common import XLSX_RESPONSE, Upload, template_response
from hub.core.fields import Mobile, NationalId, PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.services import audit, stations
from hub.services.access import has_permission, is_hub_admin

router = APIRouter(tags=["stations"])

StationManager = Annotated[User, Depends(require_permission(Permission.STATIONS_MANAGE))]


class StationOut(BaseModel):
    id: int
    name: str
    address: str | None
    contact_name_masked: str | None
    contact_phone_masked: str | None

    @classmethod
    def of(cls, org: Organisation) -> StationOut:
        return cls(
            id=org.id,
            name=org.name,
            address=org.address,
            contact_name_masked=mask_name(org.contact_name) if org.contact_name else None,
            contact_phone_masked=mask_mobile(org.contact_phone) if org.contact_phone else None,
        )


class StationAdminOut(BaseModel):
    id: int
    name_masked: str
    mobile_masked: str
    national_id_masked: str | None
    station_id: int | None
    registered: bool

    @classmethod
    def of(cls, user: User) -> StationAdminOut:
        return cls(
            id=user.id,
            name_masked=mask_name(user.name),
            mobile_masked=mask_mobile(user.mobile),
            national_id_masked=user.national_id_masked,
            station_id=user.org_id,
            registered=user.registered_at is not None,
        )


class StationAdminPatch(BaseModel):
    name: PersonName | None = None
    mobile: Mobile | None = None
    national_id: NationalId | None = None
    station_id: RowId | None = None


@router.post("/stations", response_model=StationOut, status_code=201)
def create_station(body: stations.StationIn, user: CurrentUser, db: SessionDep, ip: ClientIp) -> StationOut:
    """Register a station: by a hub admin with stations.manage, or by a station admin who has none yet."""
    if Role(user.role) is Role.STATION_ADMIN:
        if user.org_id is not None:
            raise HubError(409, "already_registered", "your station is already registered")
    elif not (is_hub_admin(user) and has_permission(user, Permission.STATIONS_MANAGE)):
        raise HubError(403, "forbidden", "needs permission stations.manage")
    org = stations.create_station(db, body, user, ip)
    db.commit()
    return StationOut.of(org)


@router.get("/stations", response_model=list[StationOut])
def list_stations(user: StationManager, db: SessionDep) -> list[StationOut]:
    rows = db.scalars(
        select(Organisation).where(Organisation.kind == OrgKind.STATION).order_by(Organisation.id)
    )
    return [StationOut.of(o) for o in rows]


@router.get("/stations/{station_id}", response_model=StationOut)
def get_station(station_id: RowId, user: CurrentUser, db: SessionDep) -> StationOut:
    if (
        not (has_permission(user, Permission.STATIONS_MANAGE) and is_hub_admin(user))
        and user.org_id != station_id
    ):
        raise HubError(403, "forbidden", "outside your organisation")
    return StationOut.of(stations.get_station(db, station_id))


@router.post("/station-admins", response_model=StationAdminOut, status_code=201)
def add_station_admin(
    body: stations.StationAdminIn, user: StationManager, db: SessionDep, ip: ClientIp
) -> StationAdminOut:
    """Add a station admin (name, mobile, national ID). Their first SMS-code login registers them."""
    admin = stations.add_station_admin(db, body, user, ip)
    db.commit()
    return StationAdminOut.of(admin)


@router.get("/station-admins", response_model=list[StationAdminOut])
def list_station_admins(
    user: StationManager, db: SessionDep, ip: ClientIp, station_id: RowId | None = None
) -> list[StationAdminOut]:
    query = select(User).where(User.role == Role.STATION_ADMIN.value).order_by(User.id)
    if station_id is not None:
        query = query.where(User.org_id == station_id)
    rows = [StationAdminOut.of(u) for u in db.scalars(query)]
    audit.record(
        db, "query.station_admins", actor=user, client_ip=ip, station_id=station_id, results=len(rows)
    )
    db.commit()
    return rows


@router.patch("/station-admins/{admin_id}", response_model=StationAdminOut)
def update_station_admin(
    admin_id: RowId, body: StationAdminPatch, user: StationManager, db: SessionDep, ip: ClientIp
) -> StationAdminOut:
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "mobile", "national_id"):
        if field in changes and changes[field] is None:
            raise HubError(422, "invalid_request", f"{field} cannot be empty")
    admin = stations.update_station_admin(db, stations.get_station_admin(db, admin_id), changes, user, ip)
    db.commit()
    return StationAdminOut.of(admin)


@router.delete("/station-admins/{admin_id}", status_code=204)
def delete_station_admin(admin_id: RowId, user: StationManager, db: SessionDep, ip: ClientIp) -> None:
    stations.delete_station_admin(db, stations.get_station_admin(db, admin_id), user, ip)
    db.commit()


@router.get("/station-admins/import-template.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def station_admin_template(_user: StationManager) -> Response:
    return template_response(stations.STATION_ADMIN_COLUMNS, "station-admins")


@router.post("/station-admins/import", status_code=201)
def import_station_admins(
    upload: Upload, user: StationManager, db: SessionDep, ip: ClientIp
) -> dict[str, int]:
    """Batch import from .xlsx: columns 姓名 / 手機 / 身分證 (and optionally 分局 = an existing station's
    name). All rows are checked first; any error refuses the whole file with a per-row report (422)."""
    created = stations.import_station_admins(db, upload, user, ip)
    db.commit()
    return {"imported": len(created)}
