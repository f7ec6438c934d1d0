"""Venue check-in in LINE: the rule lives in hub.services.venues.record_own_visit (the caller's own,
SMS-proven mobile, no second code); the LIFF API only finds the bound account and calls it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.audit import AuditEvent
from hub.models.identity import Role, User
from hub.models.venues import Visit
from hub.services import venues
from hub.services.errors import NotAllowed, NotFound
from hub.services.scope import Scope
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat

ADMIN = "+886933000001"


def _venue_code(hub: Hub) -> str:
    token, org = hub.register_enterprise(mobile=ADMIN)
    response = hub.client.post(
        f"/api/v1/organisations/{org['id']}/venues",
        json={"names": ["總部"], "address": "新北市板橋區"},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    return response.json()[0]["code"]


def _visits(db: Session) -> list[str]:
    db.expire_all()
    return [v.mobile for v in db.scalars(select(Visit))]


def _account(db: Session, mobile: str, role: Role) -> User:
    return db.scalars(select(User).where(User.mobile == mobile, User.role == role.value)).one()


def test_service_records_the_callers_own_mobile_and_refuses_hub_admins(hub: Hub, db: Session) -> None:
    code = _venue_code(hub)
    hub.super_admin_token()
    admin = _account(db, ADMIN, Role.ENTERPRISE_ADMIN)
    visit = venues.record_own_visit(db, Scope.of(admin), code.lower())
    db.commit()
    assert _visits(db) == [ADMIN] and visit.mobile == ADMIN
    assert db.scalar(select(func.count()).where(AuditEvent.action == "visit.signed_in")) == 1

    # a console admin is not a visitor: refused, nothing recorded
    with pytest.raises(NotAllowed):
        venues.record_own_visit(db, Scope.of(_account(db, "+886911000001", Role.SUPER_ADMIN)), code)
    db.rollback()
    # an unknown code: refused, nothing recorded
    with pytest.raises(NotFound):
        venues.record_own_visit(db, Scope.of(admin), "NOPE0000")
    db.rollback()
    assert _visits(db) == [ADMIN]


def test_liff_check_in_needs_a_bound_user_and_a_real_code(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    code = _venue_code(hub)
    stranger = LineChat(client, standin, "enterprise")  # never bound
    response = client.post(
        "/liff/api/checkin", json={"id_token": standin.issue_id_token(stranger.user_id), "venue_code": code}
    )
    assert response.status_code == 403 and response.json()["error"] == "not_bound"
    assert _visits(db) == []

    admin = LineChat(client, standin, "enterprise")
    admin.tap("a=register")
    admin.say("0933000001")
    assert admin.say(sms.code(ADMIN))[0]["text"].startswith("註冊成功")
    token = standin.issue_id_token(admin.user_id)
    missing = client.post("/liff/api/checkin", json={"id_token": token, "venue_code": "NOPE0000"})
    assert missing.status_code == 404 and _visits(db) == []
    done = client.post("/liff/api/checkin", json={"id_token": token, "venue_code": code})
    assert done.status_code == 200, done.text
    assert done.json()["done"] == "登記完成" and done.json()["venue"] == "總部"
    assert _visits(db) == [ADMIN]
