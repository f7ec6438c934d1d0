"""Retention purge (scheduled, HTTP and CLI) and the append-only audit log."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from hub.models.audit import AuditEvent
from hub.models.venues import Visit
from hub.services import audit
from hub.services.retention import purge_expired
from tests.hub.hubkit import bearer


def _seed_visits(hub, client):
    token, org = hub.register_enterprise()
    venue = client.post(
        f"/api/v1/organisations/{org['id']}/venues",
        json={"names": ["總部"], "address": "台北市"},
        headers=bearer(token),
    ).json()[0]
    for mobile in ("+886912000111", "+886912000222"):
        code = hub.request_code(mobile, "visit", venue["code"])
        r = client.post("/api/v1/visits", json={"venue_code": venue["code"], "mobile": mobile, "code": code})
        assert r.status_code == 201
    return venue


def _age_visits(db, mobile, days):
    db.execute(
        update(Visit)
        .where(Visit.mobile == mobile)
        .values(visited_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    )
    db.commit()


def test_purge_removes_only_what_is_older_than_retention(hub, client, db):
    from hub.models.devices import Device, Scan

    _seed_visits(hub, client)
    _age_visits(db, "+886912000111", 29)
    device = Device(id=str(uuid.uuid4()), name="d", public_key=b"\x02" * 32)
    db.add(device)
    db.flush()
    now = dt.datetime.now(dt.UTC)
    for seq, age in enumerate((30, 27)):
        db.add(
            Scan(
                event_id=str(uuid.uuid4()),
                device_id=device.id,
                seq=seq,
                batch_id=str(uuid.uuid4()),
                scanned_at=now - dt.timedelta(days=age),
                received_at=now,
                hlc="0",
                ok=True,
                reason="valid",
                stale=False,
            )
        )
    db.commit()
    result = purge_expired(db)
    assert (result.visits, result.scans) == (1, 1)
    assert db.scalar(select(func.count()).select_from(Visit)) == 1
    assert db.scalar(select(func.count()).select_from(Scan)) == 1
    assert db.scalar(select(func.count()).where(AuditEvent.action == "retention.purge")) == 1


def test_purge_over_http_and_configurable_window(hub, client, db, app):
    sup = hub.super_admin_token()
    _seed_visits(hub, client)
    _age_visits(db, "+886912000111", 3)
    app.state.context.settings = app.state.context.settings.model_copy(update={"retention_days": 2})
    r = client.post("/api/v1/retention/purge", headers=bearer(sup))
    assert r.status_code == 200 and r.json()["visits"] == 1


def test_scheduled_purge_runs_in_the_app(settings):
    """The app's background task purges on its own (interval 1 s here)."""
    import time

    from fastapi.testclient import TestClient

    from hub.main import create_app

    app = create_app(settings.model_copy(update={"purge_interval_seconds": 1}))
    with TestClient(app):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with app.state.sessionmaker() as db:
                if db.scalar(select(func.count()).where(AuditEvent.action == "retention.purge")):
                    break
            time.sleep(0.1)
        else:
            pytest.fail("the scheduled purge did not run")
    app.state.engine.dispose()


def test_audit_log_is_append_only(db):
    audit.record(db, "test.event", target="x")
    db.commit()
    for statement in ("UPDATE audit_events SET action = 'changed'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError):
            db.execute(text(statement))
            db.commit()
        db.rollback()
    assert db.scalar(select(AuditEvent.action)) == "test.event"


def test_actions_are_audited_without_personal_data(hub, client, db, keys_dir):
    sup = hub.super_admin_token()
    token, org = hub.register_enterprise()
    e = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"},
        headers=bearer(token),
    ).json()
    p = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{e['id']}/passes", json={}, headers=bearer(token)
    ).json()
    client.post(f"/api/v1/passes/{p['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(token))
    client.get("/api/v1/queries/passes", headers=bearer(sup))
    client.get(f"/api/v1/passes/{p['pass_id']}/qr.png", headers=bearer(token))
    client.post("/api/v1/auth/login", json={"mobile": "+886911000001", "password": "wrong"})
    db.expire_all()
    actions = {a for a in db.scalars(select(AuditEvent.action))}
    assert {
        "login",
        "login.failed",
        "enterprise.registered",
        "employee.added",
        "pass.issued",
        "pass.revoked",
        "query.passes",
        "pass.read",
    } <= actions
    r = client.get("/api/v1/audit", headers=bearer(sup))
    assert r.status_code == 200
    dump = r.text
    for secret in ("A123456789", "陳大明", "0912345678", "+886912345678"):
        assert secret not in dump
    assert (
        client.get("/api/v1/audit?action=pass.revoked", headers=bearer(sup)).json()[0]["target"]
        == f"pass:{p['pass_id']}"
    )
