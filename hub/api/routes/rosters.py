"""A station's duty-officer whitelist (the city's 警局流程二): add, edit, delete, batch .xlsx."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from hub.api.deps import ScopeDep
from hub.api.routes._common import XLSX_RESPONSE, Upload, patch_changes
from hub.api.routing import APIRouter
from hub.core.fields import Mobile, PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.models.rosters import Officer
from hub.responses import file_response
from hub.services import downloads, rosters
from hub.web import SessionDep

router = APIRouter(tags=["duty officers"])


class OfficerOut(BaseModel):
    id: int
    station_id: int
    name_masked: str
    officer_number: str
    mobile_masked: str
    mobile: str | None = None  # E.164, only for the station's own admins (hub.services.rosters.sees_mobiles)

    @classmethod
    def of(cls, officer: Officer, *, with_mobile: bool = False) -> OfficerOut:
        return cls(
            id=officer.id,
            station_id=officer.station_id,
            name_masked=mask_name(officer.name),
            officer_number=officer.officer_number,
            mobile_masked=mask_mobile(officer.mobile),
            mobile=officer.mobile if with_mobile else None,
        )


class OfficerPatch(BaseModel):
    name: PersonName | None = None
    officer_number: rosters.OfficerNumber | None = None
    mobile: Mobile | None = None


@router.get("/stations/{station_id}/officers", response_model=list[OfficerOut])
def list_officers(station_id: RowId, scope: ScopeDep, db: SessionDep) -> list[OfficerOut]:
    """The duty whitelist; the station's own admins also get each mobile in clear, to correct it."""
    shown = rosters.sees_mobiles(scope, station_id)
    return [
        OfficerOut.of(o, with_mobile=shown) for o in rosters.list_officers(db, scope, station_id=station_id)
    ]


@router.post("/stations/{station_id}/officers", response_model=OfficerOut, status_code=201)
def add_officer(station_id: RowId, body: rosters.OfficerIn, scope: ScopeDep, db: SessionDep) -> OfficerOut:
    return OfficerOut.of(rosters.add_officer(db, scope, station_id=station_id, data=body))


@router.patch("/stations/{station_id}/officers/{officer_id}", response_model=OfficerOut)
def update_officer(
    station_id: RowId, officer_id: RowId, body: OfficerPatch, scope: ScopeDep, db: SessionDep
) -> OfficerOut:
    officer = rosters.update_officer(
        db, scope, station_id=station_id, officer_id=officer_id, changes=patch_changes(body)
    )
    return OfficerOut.of(officer)


@router.delete("/stations/{station_id}/officers/{officer_id}", status_code=204)
def delete_officer(station_id: RowId, officer_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    rosters.delete_officer(db, scope, station_id=station_id, officer_id=officer_id)


@router.get(
    "/stations/{station_id}/officers/import-template.xlsx", response_class=Response, responses=XLSX_RESPONSE
)
def officer_template(station_id: RowId, scope: ScopeDep, db: SessionDep) -> Response:
    return file_response(downloads.officer_template(db, scope, station_id=station_id))


@router.post("/stations/{station_id}/officers/import", status_code=201)
def import_officers(station_id: RowId, upload: Upload, scope: ScopeDep, db: SessionDep) -> dict[str, int]:
    """Batch .xlsx: columns 姓名 / 警員編號 / 手機.

    Any bad row refuses the whole file (422 with a per-row report)."""
    return {"imported": len(rosters.import_officers(db, scope, station_id=station_id, data=upload))}
