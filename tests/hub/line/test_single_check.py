# ruff: noqa: F811  (the `story` fixture is imported from test_liff_pages and requested by name)
"""One pass checked by a duty officer without a device (LINE 掃碼核實): hub.services.devices.single_check
owns who may check and records the check as that officer's, at that officer's station."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models.devices import Scan
from hub.models.identity import Role, User
from hub.services.devices.single_check import check_pass
from hub.services.errors import NotAllowed
from hub.services.scope import Scope
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, story  # noqa: F401  (the fixture)


@pytest.fixture
def accounts(client: TestClient, standin: Any, sms: Any, story: dict[str, Any]) -> None:
    """The officer and the employee get their accounts as they do in LINE: by binding with a code."""
    _bind(LineChat(client, standin, "police"), sms, "+886977000001", "陳警員")
    _bind(LineChat(client, standin, "enterprise"), sms, "+886955000001")


def _scope(db: Session, mobile: str, role: Role) -> Scope:
    user = db.scalars(select(User).where(User.mobile == mobile, User.role == role.value)).one()
    return Scope.of(user)


def _scans(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Scan)) or 0


def test_a_duty_officer_checks_and_the_check_is_theirs(
    db: Session, story: dict[str, Any], accounts: None
) -> None:
    officer = _scope(db, "+886977000001", Role.OFFICER)
    done = check_pass(db, officer, story["pass"]["text"])
    db.commit()
    assert done.verdict.ok and done.scan.reason == "valid"
    assert done.scan.officer_id == str(story["officer_id"])
    assert done.scan.pass_id == story["pass"]["pass_id"]
    from hub.models.devices import Device

    device = db.get(Device, done.scan.device_id)
    assert device is not None and device.station_id == story["station"]["id"]
    # a second check goes to the same register entry, next in sequence
    again = check_pass(db, officer, story["pass"]["text"])
    assert (again.scan.device_id, again.scan.seq) == (done.scan.device_id, done.scan.seq + 1)


@pytest.mark.parametrize(
    ("mobile", "role"),
    [
        ("+886922000001", Role.STATION_ADMIN),  # an admin of the station, not on its roster
        ("+886933000001", Role.ENTERPRISE_ADMIN),
        ("+886955000001", Role.EMPLOYEE),  # the holder checking their own pass
        ("+886911000001", Role.SUPER_ADMIN),
    ],
)
def test_anyone_but_a_duty_officer_is_refused_and_nothing_recorded(
    db: Session,
    story: dict[str, Any],
    accounts: None,
    mobile: str,
    role: Role,
) -> None:
    with pytest.raises(NotAllowed):
        check_pass(db, _scope(db, mobile, role), story["pass"]["text"])
    db.rollback()
    assert _scans(db) == 0


def test_an_officer_account_of_no_station_is_refused(
    db: Session, story: dict[str, Any], accounts: None
) -> None:
    officer = _scope(db, "+886977000001", Role.OFFICER)
    stationless = Scope(
        user=officer.user, role=officer.role, permissions=officer.permissions, org_ids=frozenset()
    )
    officer.user.org_id = None  # the account as it would be with no station (not committed)
    with pytest.raises(NotAllowed):
        check_pass(db, stationless, story["pass"]["text"])
    db.rollback()
    assert _scans(db) == 0
