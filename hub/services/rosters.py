"""A station's duty-officer whitelist (name, officer number, mobile), kept by its station admins or hub
admins with stations.manage (`station_in_scope`); the rules every whitelist shares are
`hub.services.whitelist.Whitelist`'s. And who a duty officer is when they log in (`find_duty_officer`,
`duty_officer_accounts`)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.fields import Mobile, PersonName
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.documents.spreadsheets import MOBILE, NAME, OFFICER_NUMBER
from hub.models.identity import Role, User
from hub.models.organisations import Organisation
from hub.models.rosters import Officer
from hub.services.identity import officer_account, revoke_all_tokens
from hub.services.scope import Scope
from hub.services.stations import get_station
from hub.services.whitelist import EntryIn, Whitelist, patch_of

OfficerNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z\-]+$")
]


# The create model: REST's body, the console's and LIFF's forms, each import row. A field's second
# annotation is its import sheet column.
class OfficerIn(EntryIn):
    name: Annotated[PersonName, NAME]
    officer_number: Annotated[OfficerNumber, OFFICER_NUMBER]
    mobile: Annotated[Mobile, MOBILE]


# The typed update: every field of OfficerIn, optional.
OfficerPatch = patch_of(OfficerIn, "OfficerPatch")


# What is shown of a roster entry: masked, but the station's own admins get each mobile in clear to
# correct it (`Officers.sees_in_clear`).
class OfficerOut(BaseModel):
    id: int
    station_id: int
    name_masked: str
    officer_number: str
    mobile_masked: str
    mobile: str | None = None  # E.164, only for the station's own admins (hub.services.rosters.sees_mobiles)

    @classmethod
    def of(cls, officer: Officer, *, clear: bool = False) -> OfficerOut:
        return cls(
            id=officer.id,
            station_id=officer.station_id,
            name_masked=mask_name(officer.name),
            officer_number=officer.officer_number,
            mobile_masked=mask_mobile(officer.mobile),
            mobile=officer.mobile if clear else None,
        )


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


def sees_mobiles(scope: Scope, station_id: int) -> bool:
    """A station's own admins see the mobiles they typed into its roster (to correct them); everyone
    else, hub admins included, sees them masked."""
    return scope.role is Role.STATION_ADMIN and scope.member_of(station_id)


class Officers(Whitelist[Officer, OfficerIn]):
    """A station's duty roster: what follows a change is the officer's login account (a changed person
    logs in again); taking someone off takes their account and its sessions (ON DELETE CASCADE)."""

    entry = Officer
    new = OfficerIn
    patch = OfficerPatch
    public = OfficerOut
    org_key = "station_id"
    thing = "officer"
    plural = "officers"
    who = "an officer"
    lock = "roster"
    sheet_name = "duty-officers"
    unique = (("mobile", "mobile"), ("officer_number", "number"))

    def keeper(self, db: Session, scope: Scope, org_id: int) -> Organisation:
        return station_in_scope(db, scope, org_id)

    def follow(self, db: Session, entry: Officer, changes: dict[str, Any], old: dict[str, Any]) -> None:
        if "mobile" in changes or "name" in changes:
            for account in db.scalars(select(User).where(User.officer_id == entry.id)):
                account.mobile, account.name = entry.mobile, entry.name
                revoke_all_tokens(db, account.id)

    def list_details(self, scope: Scope, org_id: int, masked: bool) -> dict[str, Any]:
        # whether mobiles were shown in clear: a front end that masks them for everyone says `masked`
        return {"mobiles_in_clear": sees_mobiles(scope, org_id) and not masked}

    def sees_in_clear(self, scope: Scope, org_id: int) -> bool:
        return sees_mobiles(scope, org_id)


OFFICERS = Officers()
