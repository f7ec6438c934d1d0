"""Police stations and their admins (the city's 總管理者流程二 and 警局 registration)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Response

from hub.api.deps import ScopeDep, scope_with
from hub.api.routes._common import XLSX_RESPONSE, Upload
from hub.api.routing import APIRouter
from hub.core.fields import RowId
from hub.core.permissions import Permission
from hub.responses import file_response
from hub.services import downloads, stations
from hub.services.scope import Scope
from hub.web import SessionDep

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    pass

router = APIRouter(tags=["stations"])

StationManager = Annotated[Scope, Depends(scope_with(Permission.STATIONS_MANAGE))]


@router.post("/stations", response_model=stations.StationOut, status_code=201)
def create_station(body: stations.StationIn, scope: ScopeDep, db: SessionDep) -> stations.StationOut:
    """Register a station: by a hub admin with stations.manage, or by a station admin who has none yet."""
    return stations.StationOut.of(stations.create_station(db, scope, data=body))


@router.get("/stations", response_model=list[stations.StationOut])
def list_stations(scope: ScopeDep, db: SessionDep) -> list[stations.StationOut]:
    return [stations.StationOut.of(o) for o in stations.list_stations(db, scope)]


@router.get("/stations/{station_id}", response_model=stations.StationOut)
def get_station(station_id: RowId, scope: ScopeDep, db: SessionDep) -> stations.StationOut:
    return stations.StationOut.of(stations.station_for_reading(db, scope, station_id))


@router.post("/station-admins", response_model=stations.StationAdminOut, status_code=201)
def add_station_admin(
    body: stations.StationAdminIn, scope: ScopeDep, db: SessionDep
) -> stations.StationAdminOut:
    """Add a station admin (name, mobile, national ID). Their first SMS-code login registers them."""
    return stations.StationAdminOut.of(stations.add_station_admin(db, scope, data=body))


@router.get("/station-admins", response_model=list[stations.StationAdminOut])
def list_station_admins(
    scope: ScopeDep, db: SessionDep, station_id: RowId | None = None
) -> list[stations.StationAdminOut]:
    return [
        stations.StationAdminOut.of(u) for u in stations.list_station_admins(db, scope, station_id=station_id)
    ]


@router.patch("/station-admins/{admin_id}", response_model=stations.StationAdminOut)
def update_station_admin(
    admin_id: RowId, body: stations.StationAdminPatch, scope: ScopeDep, db: SessionDep
) -> stations.StationAdminOut:
    return stations.StationAdminOut.of(
        stations.update_station_admin(db, scope, admin_id=admin_id, changes=body)
    )


@router.delete("/station-admins/{admin_id}", status_code=204)
def delete_station_admin(admin_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    stations.delete_station_admin(db, scope, admin_id=admin_id)


@router.get("/station-admins/import-template.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def station_admin_template(scope: StationManager) -> Response:
    return file_response(downloads.station_admin_template(scope))


@router.post("/station-admins/import", status_code=201)
def import_station_admins(upload: Upload, scope: ScopeDep, db: SessionDep) -> dict[str, int]:
    """Batch import from .xlsx: columns 姓名 / 手機 / 身分證 (and optionally 分局 = an existing station's
    name). All rows are checked first; any error refuses the whole file with a per-row report (422)."""
    return {"imported": len(stations.import_station_admins(db, scope, data=upload))}
