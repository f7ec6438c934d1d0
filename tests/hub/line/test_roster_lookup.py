"""Finding duty officers by mobile (hub.services.rosters), what LINE binding asks before and after the
SMS code: every station's roster entry counts, deactivated accounts do not, the pre-code check creates
nothing."""

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

    assert rosters.on_a_roster(db, OFFICER) and not rosters.on_a_roster(db, "+886977000002")
    assert _officer_accounts(db) == 0  # the pre-code check makes no account
    assert rosters.duty_officer_accounts(db, "+886977000002") == []

    accounts = rosters.duty_officer_accounts(db, OFFICER)
    assert sorted(a.org_id for a in accounts) == sorted(s["id"] for s in stations)
    assert {a.mobile for a in accounts} == {OFFICER}
    accounts[0].active = False
    db.commit()
    again = rosters.duty_officer_accounts(db, OFFICER)
    assert [a.id for a in again] == [accounts[1].id]
    assert _officer_accounts(db) == 2  # asked twice, made once
