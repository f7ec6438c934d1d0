"""Station duty-officer whitelists (name, officer number, mobile), kept by station admins."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.fields import Mobile, PersonName
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.documents.spreadsheets import OFFICER_COLUMNS
from hub.models.identity import Role, User
from hub.models.organisations import Organisation
from hub.models.rosters import Officer
from hub.services import audit
from hub.services.errors import NotFound
from hub.services.identity import officer_account, revoke_all_tokens
from hub.services.imports import check_each, read_import, refuse_import
from hub.services.scope import Scope
from hub.services.stations import get_station
from hub.services.unit_of_work import REPEAT_WINDOW, serialise
from hub.services.whitelist import refuse_repeats

OfficerNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z\-]+$")
]


class OfficerIn(BaseModel):
    name: PersonName
    officer_number: OfficerNumber
    mobile: Mobile


def normalize_name(name: str) -> str:
    """NFKC and no spaces: `陳 大明` and full-width letters match what was typed into the whitelist."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def find_duty_officer(db: Session, mobile_e164: str, name: str) -> Officer | None:
    """The whitelisted officer with this mobile and name (docs/requirements.md 5: the officer login), if
    any."""
    wanted = normalize_name(name)
    candidates = db.scalars(select(Officer).where(Officer.mobile == mobile_e164).order_by(Officer.id.desc()))
    for officer in candidates:
        if normalize_name(officer.name) == wanted:
            return officer
    return None


def duty_officer_accounts(db: Session, mobile_e164: str, name: str) -> list[User]:
    """The active officer accounts of every roster entry with this mobile and name (one per station it is
    on; the name compared as `find_duty_officer` does), made on first use as the officer logins do. An
    identity lookup, asked before anyone is signed in (the caller has just proven the mobile with an SMS
    code), so it takes no Scope: the accounts it returns become the caller's Scope. Another station's
    entry that carries this mobile under someone else's name is not this person's."""
    wanted = normalize_name(name)
    entries = db.scalars(select(Officer).where(Officer.mobile == mobile_e164).order_by(Officer.id))
    accounts = [officer_account(db, o.id) for o in entries if normalize_name(o.name) == wanted]
    return [a for a in accounts if a.active]


def station_in_scope(db: Session, scope: Scope, station_id: int) -> Organisation:
    """A station whose duty whitelist `scope` keeps: its own station admins, or hub admins with
    stations.manage. A station admin whose station is not registered keeps none."""
    station = get_station(db, station_id)
    scope.require_keeper(station_id, Role.STATION_ADMIN, Permission.STATIONS_MANAGE)
    return station


def get_officer(db: Session, station_id: int, officer_id: int) -> Officer:
    officer = db.get(Officer, officer_id)
    if officer is None or officer.station_id != station_id:
        raise NotFound("officer")
    return officer


def officer_in_scope(db: Session, scope: Scope, *, station_id: int, officer_id: int) -> Officer:
    station_in_scope(db, scope, station_id)
    return get_officer(db, station_id, officer_id)


def _check_free(db: Session, station_id: int, mobile: str, number: str, exclude: int | None = None) -> None:
    fields = [(Officer.mobile, mobile, "mobile"), (Officer.officer_number, number, "number")]
    refuse_repeats(db, Officer, Officer.station_id == station_id, fields, who="an officer", exclude=exclude)


def _just_added(db: Session, station_id: int, name: str, number: str, mobile: str) -> Officer | None:
    """An identical roster entry added within REPEAT_WINDOW: what a repeated request added."""
    return db.scalars(
        select(Officer).where(
            Officer.station_id == station_id,
            Officer.name == name,
            Officer.officer_number == number,
            Officer.mobile == mobile,
            Officer.created_at >= utcnow() - REPEAT_WINDOW,
        )
    ).first()


def sees_mobiles(scope: Scope, station_id: int) -> bool:
    """A station's own admins see the mobiles they typed into its roster (to correct them); everyone
    else, hub admins included, sees them masked."""
    return scope.role is Role.STATION_ADMIN and scope.member_of(station_id)


def list_officers(db: Session, scope: Scope, *, station_id: int, masked: bool = False) -> list[Officer]:
    """The station's duty whitelist; audited (with whether mobiles were shown in clear: a front end that
    shows them masked to everyone, LINE's, says `masked`)."""
    station_in_scope(db, scope, station_id)
    rows = list(db.scalars(select(Officer).where(Officer.station_id == station_id).order_by(Officer.id)))
    audit.record(
        db,
        "query.officers",
        actor=scope.user,
        target=f"org:{station_id}",
        client_ip=scope.client_ip,
        subjects=[o.mobile for o in rows],
        results=len(rows),
        mobiles_in_clear=sees_mobiles(scope, station_id) and not masked,
    )
    return rows


def add_officer(db: Session, scope: Scope, *, station_id: int, data: OfficerIn) -> Officer:
    station_in_scope(db, scope, station_id)
    serialise(db, f"roster:{station_id}")
    repeat = _just_added(db, station_id, data.name, data.officer_number, data.mobile)
    if repeat is not None:  # the same entry again at once (a double submit): the one just added
        return repeat
    _check_free(db, station_id, data.mobile, data.officer_number)
    officer = Officer(
        station_id=station_id, name=data.name, officer_number=data.officer_number, mobile=data.mobile
    )
    db.add(officer)
    db.flush()
    audit.record(
        db,
        "officer.added",
        actor=scope.user,
        target=f"officer:{officer.id}",
        client_ip=scope.client_ip,
        station_id=station_id,
    )
    return officer


def update_officer(
    db: Session, scope: Scope, *, station_id: int, officer_id: int, changes: dict[str, str]
) -> Officer:
    officer = officer_in_scope(db, scope, station_id=station_id, officer_id=officer_id)
    _check_free(
        db,
        officer.station_id,
        changes.get("mobile", officer.mobile),
        changes.get("officer_number", officer.officer_number),
        exclude=officer.id,
    )
    for field in ("name", "officer_number", "mobile"):
        if field in changes:
            setattr(officer, field, changes[field])
    if "mobile" in changes or "name" in changes:
        # The officer's login account follows the whitelist entry: a changed person logs in again.
        for account in db.scalars(select(User).where(User.officer_id == officer.id)):
            account.mobile, account.name = officer.mobile, officer.name
            revoke_all_tokens(db, account.id)
    audit.record(
        db,
        "officer.updated",
        actor=scope.user,
        target=f"officer:{officer.id}",
        client_ip=scope.client_ip,
        fields=sorted(changes),
    )
    return officer


def delete_officer(db: Session, scope: Scope, *, station_id: int, officer_id: int) -> None:
    serialise(db, f"roster:{station_id}")  # a second delete at once finds it gone, not half there
    officer = officer_in_scope(db, scope, station_id=station_id, officer_id=officer_id)
    # The officer's login account and its sessions go with it (ON DELETE CASCADE).
    db.delete(officer)
    audit.record(
        db, "officer.deleted", actor=scope.user, target=f"officer:{officer.id}", client_ip=scope.client_ip
    )


def import_officers(db: Session, scope: Scope, *, station_id: int, data: bytes) -> list[Officer]:
    """All rows or none (422 with a per-row report)."""
    station_in_scope(db, scope, station_id)
    serialise(db, f"roster:{station_id}")
    # Repeats within the file are found by the reader; clashes with the whitelist here.
    good, errors, total = read_import(data, OFFICER_COLUMNS, OfficerIn)
    # the same file again at once (a double submit): the rows the first import added
    again = [_just_added(db, station_id, r.name, r.officer_number, r.mobile) for _n, r in good]
    if good and not errors and all(o is not None for o in again):
        return [o for o in again if o is not None]
    errors += check_each(good, lambda row: _check_free(db, station_id, row.mobile, row.officer_number))
    if errors:
        raise refuse_import(
            errors, total, actor=scope.user, client_ip=scope.client_ip, kind="officers", station_id=station_id
        )
    created = [
        Officer(station_id=station_id, name=r.name, officer_number=r.officer_number, mobile=r.mobile)
        for _n, r in good
    ]
    db.add_all(created)
    db.flush()
    audit.record(
        db,
        "import.officers",
        actor=scope.user,
        client_ip=scope.client_ip,
        station_id=station_id,
        rows=len(created),
    )
    return created
