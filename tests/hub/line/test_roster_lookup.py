"""Finding duty officers by mobile and name (hub.services.rosters), what LINE binding asks before and after
the SMS code: every station's roster entry under that name counts, another name or a deactivated account
does not, the pre-code check creates nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models.identity import Role, User
from hub.services import rosters
from tests.hub.hubkit import Hub, bearer

OFFICER = "+886977000001"


def _officer_accounts(db: Session) -> int:
    return db.scalar(select(func.count()).where(User.role == Role.OFFICER.value)) or 0


def test_officer_on_two_rosters_has_two_accounts_and_a_deactivated_one_is_left_out(
    hub: Hub, db: Session, super_admin_token: str
) -> None:
    stations = [hub.create_station(super_admin_token, name=n) for n in ("板橋分局", "三重分局")]
    for station in stations:
        response = hub.client.post(
            f"/api/v1/stations/{station['id']}/officers",
            json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
            headers=bearer(super_admin_token),
        )
        assert response.status_code == 201, response.text

    assert rosters.find_duty_officer(db, OFFICER, "陳 警員") is not None  # as the app's login compares
    assert rosters.find_duty_officer(db, "+886977000002", "陳警員") is None
    assert rosters.find_duty_officer(db, OFFICER, "陳警") is None
    assert _officer_accounts(db) == 0  # the pre-code check makes no account
    assert rosters.duty_officer_accounts(db, "+886977000002", "陳警員") == []
    assert rosters.duty_officer_accounts(db, OFFICER, "陳大明") == []
    assert _officer_accounts(db) == 0  # nor does asking under another name

    accounts = rosters.duty_officer_accounts(db, OFFICER, "陳警員")
    assert sorted(a.org_id for a in accounts) == sorted(s["id"] for s in stations)
    assert {a.mobile for a in accounts} == {OFFICER}
    accounts[0].active = False
    db.commit()
    again = rosters.duty_officer_accounts(db, OFFICER, "陳警員")
    assert [a.id for a in again] == [accounts[1].id]
    assert _officer_accounts(db) == 2  # asked twice, made once
