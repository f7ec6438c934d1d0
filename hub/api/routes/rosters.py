"""A station's duty-officer whitelist (the seed's 警局流程二): add, edit, delete, batch .xlsx."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import select

from hub.api.deps import ClientIp, CurrentUser
from hub.api.routes._common import XLSX_RESPONSE, Upload, patch_changes, template_response
from hub.core.fields import Mobile, PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.documents.spreadsheets import OFFICER_COLUMNS
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.models.rosters import Officer
from hub.services import audit, rosters
from hub.services.access import require_org_access
from hub.services.stations import get_station

router = APIRouter(tags=["duty officers"])


class OfficerOut(BaseModel):
    id: int
    station_id: int
    name_masked: str
    officer_number: str
    mobile_masked: str

    @classmethod
    def of(cls, officer: Officer) -> OfficerOut:
        return cls(
            id=officer.id,
            station_id=officer.station_id,
            name_masked=mask_name(officer.name),
            officer_number=officer.officer_number,
            mobile_masked=mask_mobile(officer.mobile),
        )


class OfficerPatch(BaseModel):
    name: PersonName | None = None
    officer_number: rosters.OfficerNumber | None = None
    mobile: Mobile | None = None


def _station_keeper(db: SessionDep, user: User, station_id: int) -> None:
    """Station admins keep their own station's whitelist; hub admins need stations.manage."""
    get_station(db, station_id)
    if Role(user.role) not in (Role.STATION_ADMIN, Role.SUPER_ADMIN, Role.GENERAL_ADMIN):
        raise HubError(403, "forbidden", "only station admins keep the duty whitelist")
    require_org_access(user, station_id, Permission.STATIONS_MANAGE if user.org_id != station_id else None)


@router.get("/stations/{station_id}/officers", response_model=list[OfficerOut])
def list_officers(station_id: RowId, user: CurrentUser, db: SessionDep, ip: ClientIp) -> list[OfficerOut]:
    _station_keeper(db, user, station_id)
    query = select(Officer).where(Officer.station_id == station_id).order_by(Officer.id)
    rows = [OfficerOut.of(o) for o in db.scalars(query)]
    audit.record(
        db, "query.officers", actor=user, target=f"org:{station_id}", client_ip=ip, results=len(rows)
    )
    db.commit()
    return rows


@router.post("/stations/{station_id}/officers", response_model=OfficerOut, status_code=201)
def add_officer(
    station_id: RowId, body: rosters.OfficerIn, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> OfficerOut:
    _station_keeper(db, user, station_id)
    officer = rosters.add_officer(db, station_id, body, user, ip)
    db.commit()
    return OfficerOut.of(officer)


@router.patch("/stations/{station_id}/officers/{officer_id}", response_model=OfficerOut)
def update_officer(
    station_id: RowId, officer_id: RowId, body: OfficerPatch, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> OfficerOut:
    _station_keeper(db, user, station_id)
    changes = patch_changes(body)
    officer = rosters.update_officer(db, rosters.get_officer(db, station_id, officer_id), changes, user, ip)
    db.commit()
    return OfficerOut.of(officer)


@router.delete("/stations/{station_id}/officers/{officer_id}", status_code=204)
def delete_officer(
    station_id: RowId, officer_id: RowId, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> None:
    _station_keeper(db, user, station_id)
    rosters.delete_officer(db, rosters.get_officer(db, station_id, officer_id), user, ip)
    db.commit()


@router.get(
    "/stations/{station_id}/officers/import-template.xlsx", response_class=Response, responses=XLSX_RESPONSE
)
def officer_template(station_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    _station_keeper(db, user, station_id)
    return template_response(OFFICER_COLUMNS, "duty-officers")


@router.post("/stations/{station_id}/officers/import", status_code=201)
def import_officers(
    station_id: RowId, upload: Upload, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> dict[str, int]:
    """Batch .xlsx: columns 姓名 / 警員編號 / 手機.

    Any bad row refuses the whole file (422 with a per-row report)."""
    _station_keeper(db, user, station_id)
    created = rosters.import_officers(db, station_id, upload, user, ip)
    db.commit()
    return {"imported": len(created)}
