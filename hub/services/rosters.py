"""Station duty-officer whitelists (name, officer number, mobile), kept by station admins."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.fields import Mobile, PersonName
from hub.documents.spreadsheets import OFFICER_COLUMNS
from hub.errors import not_found
from hub.models.identity import User
from hub.models.rosters import Officer
from hub.services import audit
from hub.services.imports import check_each, read_import, refuse_import
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
    """The whitelisted officer with this mobile and name (the seed's officer-login match), if any."""
    wanted = normalize_name(name)
    candidates = db.scalars(select(Officer).where(Officer.mobile == mobile_e164).order_by(Officer.id.desc()))
    for officer in candidates:
        if normalize_name(officer.name) == wanted:
            return officer
    return None


def get_officer(db: Session, station_id: int, officer_id: int) -> Officer:
    officer = db.get(Officer, officer_id)
    if officer is None or officer.station_id != station_id:
        raise not_found("officer")
    return officer


def _check_free(db: Session, station_id: int, mobile: str, number: str, exclude: int | None = None) -> None:
    fields = [(Officer.mobile, mobile, "mobile"), (Officer.officer_number, number, "number")]
    refuse_repeats(db, Officer, Officer.station_id == station_id, fields, who="an officer", exclude=exclude)


def add_officer(db: Session, station_id: int, data: OfficerIn, actor: User, client_ip: str | None) -> Officer:
    _check_free(db, station_id, data.mobile, data.officer_number)
    officer = Officer(
        station_id=station_id, name=data.name, officer_number=data.officer_number, mobile=data.mobile
    )
    db.add(officer)
    db.flush()
    audit.record(
        db,
        "officer.added",
        actor=actor,
        target=f"officer:{officer.id}",
        client_ip=client_ip,
        station_id=station_id,
    )
    return officer


def update_officer(
    db: Session, officer: Officer, changes: dict[str, str], actor: User, client_ip: str | None
) -> Officer:
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
            from hub.services.identity import revoke_all_tokens

            revoke_all_tokens(db, account.id)
    audit.record(
        db,
        "officer.updated",
        actor=actor,
        target=f"officer:{officer.id}",
        client_ip=client_ip,
        fields=sorted(changes),
    )
    return officer


def delete_officer(db: Session, officer: Officer, actor: User, client_ip: str | None) -> None:
    # The officer's login account and its sessions go with it (ON DELETE CASCADE).
    db.delete(officer)
    audit.record(db, "officer.deleted", actor=actor, target=f"officer:{officer.id}", client_ip=client_ip)


def import_officers(
    db: Session, station_id: int, data: bytes, actor: User, client_ip: str | None
) -> list[Officer]:
    """All rows or none (422 with a per-row report)."""
    # Repeats within the file are found by the reader; clashes with the whitelist here.
    good, errors, total = read_import(data, OFFICER_COLUMNS, OfficerIn)
    errors += check_each(good, lambda row: _check_free(db, station_id, row.mobile, row.officer_number))
    if errors:
        raise refuse_import(
            db, errors, total, actor=actor, client_ip=client_ip, kind="officers", station_id=station_id
        )
    created = [
        Officer(station_id=station_id, name=r.name, officer_number=r.officer_number, mobile=r.mobile)
        for _n, r in good
    ]
    db.add_all(created)
    db.flush()
    audit.record(
        db, "import.officers", actor=actor, client_ip=client_ip, station_id=station_id, rows=len(created)
    )
    return created
