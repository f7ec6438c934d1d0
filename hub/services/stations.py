"""Police stations and their admins (one by one or from an .xlsx file)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.core.fields import Address, Mobile, NationalId, OrgName, PersonName, Phone, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.documents.spreadsheets import MOBILE, NAME, NATIONAL_ID, STATION
from hub.i18n import catalogue
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.services import audit, people
from hub.services.errors import Conflict, NotAllowed, NotFound, Rejected
from hub.services.identity import revoke_all_tokens
from hub.services.imports import RowProblem, read_import, refuse_import
from hub.services.scope import Scope
from hub.services.whitelist import columns_of, patch_of


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


# The update is derived from the create model: the same fields with the same limits, each optional.
StationAdminPatch = patch_of(StationAdminIn, "StationAdminPatch")


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


# One row of the station admins' import sheet: StationAdminIn with the station named, not numbered. A
# field's second annotation is its sheet column, so the sheet and its template follow from the model.
class StationAdminRow(BaseModel):
    name: Annotated[PersonName, NAME]
    mobile: Annotated[Mobile, MOBILE]
    national_id: Annotated[NationalId, NATIONAL_ID]
    station: Annotated[OrgName | None, STATION] = None


STATION_ADMIN_COLUMNS = columns_of(StationAdminRow)  # the import sheet's columns, in this order


def get_station(db: Session, station_id: int) -> Organisation:
    org = db.get(Organisation, station_id)
    if org is None or org.kind != OrgKind.STATION:
        raise NotFound("station")
    return org


def create_station(db: Session, scope: Scope, *, data: StationIn) -> Organisation:
    """Register a station: by a hub admin with stations.manage, or by a station admin who has none yet
    (the city's 警局 application; the new station becomes theirs)."""
    if scope.role is Role.STATION_ADMIN:
        if scope.org_ids:
            raise Conflict(reason="already_registered", detail="your station is already registered")
    else:
        scope.require_role(Role.SUPER_ADMIN, Role.GENERAL_ADMIN)
        scope.require(Permission.STATIONS_MANAGE)
    actor, client_ip = scope.user, scope.client_ip
    exists = db.scalar(
        select(func.count()).where(Organisation.kind == OrgKind.STATION.value, Organisation.name == data.name)
    )
    if exists:
        raise Conflict(reason="duplicate", detail="a station with this name exists")
    org = Organisation(
        kind=OrgKind.STATION.value,
        name=data.name,
        address=data.address,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
    )
    db.add(org)
    db.flush()
    # A station admin without a station registers theirs (the city's 警局 application).
    if Role(actor.role) is Role.STATION_ADMIN and actor.org_id is None:
        actor.org_id = org.id
    audit.record(db, "station.created", actor=actor, target=f"org:{org.id}", client_ip=client_ip)
    return org


def _row_text(key: str, **values: object) -> str:
    """An import row's problem in words (import reports are read on zh-TW pages; docs/i18n.md)."""
    return catalogue.text(catalogue.DEFAULT_LANGUAGE, key, **values)


STATION_ADMIN_EXISTS = "這支手機號碼已是警局管理者，不能重複新增。"  # shown as is in the console and REST


def _station_admin_exists(db: Session, mobile: str, exclude: int | None = None) -> bool:
    """One person (one mobile) is a station admin once: with or without a station, never twice."""
    query = select(User.id).where(User.mobile == mobile, User.role == Role.STATION_ADMIN.value)
    if exclude is not None:
        query = query.where(User.id != exclude)
    return db.scalars(query).first() is not None


def _check_station_admin_free(db: Session, mobile: str, exclude: int | None = None) -> None:
    if _station_admin_exists(db, mobile, exclude):
        raise Conflict(reason="station_admin_exists", detail=STATION_ADMIN_EXISTS)


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


def list_stations(db: Session, scope: Scope) -> list[Organisation]:
    scope.require(Permission.STATIONS_MANAGE)
    return list(
        db.scalars(select(Organisation).where(Organisation.kind == OrgKind.STATION).order_by(Organisation.id))
    )


def station_for_reading(db: Session, scope: Scope, station_id: int) -> Organisation:
    """A station's card: for its own members and hub admins with stations.manage."""
    if not scope.reaches(station_id, Permission.STATIONS_MANAGE):
        raise NotAllowed("outside your organisation")
    return get_station(db, station_id)


def list_station_admins(db: Session, scope: Scope, *, station_id: int | None = None) -> list[User]:
    scope.require(Permission.STATIONS_MANAGE)
    query = select(User).where(User.role == Role.STATION_ADMIN.value).order_by(User.id)
    if station_id is not None:
        query = query.where(User.org_id == station_id)
    rows = list(db.scalars(query))
    audit.record(
        db,
        "query.station_admins",
        actor=scope.user,
        client_ip=scope.client_ip,
        subjects=[u.mobile for u in rows],
        station_id=station_id,
        results=len(rows),
    )
    return rows


def add_station_admin(db: Session, scope: Scope, *, data: StationAdminIn) -> User:
    """Add a station admin (name, mobile, national ID); their first SMS-code login registers them."""
    scope.require(Permission.STATIONS_MANAGE)
    actor, client_ip = scope.user, scope.client_ip
    if data.station_id is not None:
        get_station(db, data.station_id)
    _check_station_admin_free(db, data.mobile)
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
        raise NotFound("station admin")
    return user


def update_station_admin(db: Session, scope: Scope, *, admin_id: int, changes: BaseModel) -> User:
    """`changes`: a `StationAdminPatch`; the fields it sets are changed (set to null: refused)."""
    scope.require(Permission.STATIONS_MANAGE)
    fields = StationAdminPatch.model_validate(changes.model_dump(exclude_unset=True)).model_dump(
        exclude_unset=True
    )
    for field in ("name", "mobile", "national_id"):
        if field in fields and fields[field] is None:
            raise Rejected(reason="invalid_request", detail=f"{field} cannot be empty", field=field)
    user = get_station_admin(db, admin_id)
    actor, client_ip = scope.user, scope.client_ip
    if "station_id" in fields and fields["station_id"] is not None:
        get_station(db, int(fields["station_id"]))  # type: ignore[arg-type]
    mobile = str(fields.get("mobile", user.mobile))
    station_id = fields.get("station_id", user.org_id)
    _check_station_admin_free(db, mobile, exclude=user.id)
    if "name" in fields:
        user.name = str(fields["name"])
    if "mobile" in fields:
        user.mobile = mobile
        revoke_all_tokens(db, user.id)  # a new number is a new person until they log in again
    if "national_id" in fields:
        people.set_national_id(db, user, str(fields["national_id"]))
    if "station_id" in fields:
        user.org_id = station_id  # type: ignore[assignment]
    audit.record(
        db,
        "station_admin.updated",
        actor=actor,
        target=f"user:{user.id}",
        client_ip=client_ip,
        fields=sorted(fields),
    )
    return user


def delete_station_admin(db: Session, scope: Scope, *, admin_id: int) -> None:
    scope.require(Permission.STATIONS_MANAGE)
    user = get_station_admin(db, admin_id)
    actor, client_ip = scope.user, scope.client_ip
    revoke_all_tokens(db, user.id)
    db.delete(user)
    audit.record(db, "station_admin.deleted", actor=actor, target=f"user:{user.id}", client_ip=client_ip)


def import_station_admins(db: Session, scope: Scope, *, data: bytes) -> list[User]:
    """All rows or none: any bad row refuses the whole file (422 with a per-row report)."""
    scope.require(Permission.STATIONS_MANAGE)
    actor, client_ip = scope.user, scope.client_ip
    good, errors, total = read_import(data, STATION_ADMIN_COLUMNS, StationAdminRow)
    stations = {
        o.name: o.id for o in db.scalars(select(Organisation).where(Organisation.kind == OrgKind.STATION))
    }
    seen: dict[str, int] = {}
    planned: list[StationAdminIn] = []
    for number, row in good:
        station_id = None
        if row.station:
            station_id = stations.get(row.station)
            if station_id is None:
                errors.append(RowProblem(number, "station", _row_text("import.no_station")))
                continue
        if row.mobile in seen:
            errors.append(
                RowProblem(number, "mobile", _row_text("import.same_mobile", first=seen[row.mobile]))
            )
            continue
        seen[row.mobile] = number
        if _station_admin_exists(db, row.mobile):
            errors.append(RowProblem(number, "mobile", STATION_ADMIN_EXISTS))
            continue
        planned.append(
            StationAdminIn(
                name=row.name, mobile=row.mobile, national_id=row.national_id, station_id=station_id
            )
        )
    if errors:
        raise refuse_import(errors, total, actor=actor, client_ip=client_ip, kind="station_admins")
    created = [_new_station_admin(db, item, actor) for item in planned]
    db.flush()
    audit.record(db, "import.station_admins", actor=actor, client_ip=client_ip, rows=len(created))
    return created
