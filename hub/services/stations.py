"""Police stations and their admins (one by one or from an .xlsx file)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.core.fields import Address, Mobile, NationalId, OrgName, PersonName, Phone, RowId
from hub.documents.spreadsheets import STATION_ADMIN_COLUMNS
from hub.errors import HubError, not_found
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.services import audit, people
from hub.services.identity import revoke_all_tokens
from hub.services.imports import RowProblem, read_import, refuse_import


class StationIn(BaseModel):
    name: OrgName
    address: Address | None = None
    contact_name: PersonName | None = None
    contact_phone: Phone | None = None


class StationAdminIn(BaseModel):
    name: PersonName
    mobile: Mobile
    national_id: NationalId
    station_id: RowId | None = None


class StationAdminRow(BaseModel):
    name: PersonName
    mobile: Mobile
    national_id: NationalId
    station: OrgName | None = None


def get_station(db: Session, station_id: int) -> Organisation:
    org = db.get(Organisation, station_id)
    if org is None or org.kind != OrgKind.STATION:
        raise not_found("station")
    return org


def create_station(db: Session, data: StationIn, actor: User, client_ip: str | None) -> Organisation:
    exists = db.scalar(
        select(func.count()).where(Organisation.kind == OrgKind.STATION.value, Organisation.name == data.name)
    )
    if exists:
        raise HubError(409, "duplicate", "a station with this name exists")
    org = Organisation(
        kind=OrgKind.STATION.value,
        name=data.name,
        address=data.address,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
    )
    db.add(org)
    db.flush()
    # A station admin without a station registers theirs (the seed's 警局 application).
    if Role(actor.role) is Role.STATION_ADMIN and actor.org_id is None:
        actor.org_id = org.id
    audit.record(db, "station.created", actor=actor, target=f"org:{org.id}", client_ip=client_ip)
    return org


def _station_admin_exists(
    db: Session, mobile: str, station_id: int | None, exclude: int | None = None
) -> bool:
    query = select(User.id).where(
        User.mobile == mobile,
        User.role == Role.STATION_ADMIN.value,
        User.org_id.is_(None) if station_id is None else User.org_id == station_id,
    )
    if exclude is not None:
        query = query.where(User.id != exclude)
    return db.scalars(query).first() is not None


def _check_station_admin_free(
    db: Session, mobile: str, station_id: int | None, exclude: int | None = None
) -> None:
    if _station_admin_exists(db, mobile, station_id, exclude):
        raise HubError(409, "duplicate", "this mobile is already an admin of this station")


def _new_station_admin(db: Session, data: StationAdminIn, actor: User) -> User:
    user = User(
        mobile=data.mobile,
        name=data.name,
        role=Role.STATION_ADMIN.value,
        org_id=data.station_id,
        permissions=[],
        created_by=actor.id,
    )
    people.set_national_id(db, user, data.national_id)
    db.add(user)
    return user


def add_station_admin(db: Session, data: StationAdminIn, actor: User, client_ip: str | None) -> User:
    if data.station_id is not None:
        get_station(db, data.station_id)
    _check_station_admin_free(db, data.mobile, data.station_id)
    user = _new_station_admin(db, data, actor)
    db.flush()
    audit.record(
        db,
        "station_admin.created",
        actor=actor,
        target=f"user:{user.id}",
        client_ip=client_ip,
        mobile=mask_mobile(data.mobile),
        station_id=data.station_id,
    )
    return user


def get_station_admin(db: Session, admin_id: int) -> User:
    user = db.get(User, admin_id)
    if user is None or user.role != Role.STATION_ADMIN.value:
        raise not_found("station admin")
    return user


def update_station_admin(
    db: Session, user: User, changes: dict[str, object], actor: User, client_ip: str | None
) -> User:
    if "station_id" in changes and changes["station_id"] is not None:
        get_station(db, int(changes["station_id"]))  # type: ignore[arg-type]
    mobile = str(changes.get("mobile", user.mobile))
    station_id = changes.get("station_id", user.org_id)
    _check_station_admin_free(db, mobile, station_id, exclude=user.id)  # type: ignore[arg-type]
    if "name" in changes:
        user.name = str(changes["name"])
    if "mobile" in changes:
        user.mobile = mobile
        revoke_all_tokens(db, user.id)  # a new number is a new person until they log in again
    if "national_id" in changes:
        people.set_national_id(db, user, str(changes["national_id"]))
    if "station_id" in changes:
        user.org_id = station_id  # type: ignore[assignment]
    audit.record(
        db,
        "station_admin.updated",
        actor=actor,
        target=f"user:{user.id}",
        client_ip=client_ip,
        fields=sorted(changes),
    )
    return user


def delete_station_admin(db: Session, user: User, actor: User, client_ip: str | None) -> None:
    revoke_all_tokens(db, user.id)
    db.delete(user)
    audit.record(db, "station_admin.deleted", actor=actor, target=f"user:{user.id}", client_ip=client_ip)


def import_station_admins(db: Session, data: bytes, actor: User, client_ip: str | None) -> list[User]:
    """All rows or none: any bad row refuses the whole file (422 with a per-row report)."""
    good, errors, total = read_import(data, STATION_ADMIN_COLUMNS, StationAdminRow)
    stations = {
        o.name: o.id for o in db.scalars(select(Organisation).where(Organisation.kind == OrgKind.STATION))
    }
    seen: dict[tuple[str, int | None], int] = {}
    planned: list[StationAdminIn] = []
    for number, row in good:
        station_id = None
        if row.station:
            station_id = stations.get(row.station)
            if station_id is None:
                errors.append(RowProblem(number, "station", "no station with this name"))
                continue
        key = (row.mobile, station_id)
        if key in seen:
            errors.append(RowProblem(number, "mobile", f"same mobile as row {seen[key]}"))
            continue
        seen[key] = number
        if _station_admin_exists(db, row.mobile, station_id):
            errors.append(RowProblem(number, "mobile", "already a station admin"))
            continue
        planned.append(
            StationAdminIn(
                name=row.name, mobile=row.mobile, national_id=row.national_id, station_id=station_id
            )
        )
    if errors:
        raise refuse_import(db, errors, total, actor=actor, client_ip=client_ip, kind="station_admins")
    created = [_new_station_admin(db, item, actor) for item in planned]
    db.flush()
    audit.record(db, "import.station_admins", actor=actor, client_ip=client_ip, rows=len(created))
    return created
