"""Scan-batch ingestion over HTTP: signed, idempotent, answered per event, refused whole when it must be."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.api.deps import get_app_settings
from hub.models.devices import Scan, ScanBatch
from hub.models.identity import Role
from hub.services.devices.ingestion import ingest_batch
from hub.services.devices.scan_log import scans_by_officer
from hub.services.retention import purge_expired
from hub.services.unit_of_work import unit_of_work
from tests.hub.test_devices_support import API, auth_headers, batch_body, enrol_device, make_event, post_batch


@pytest.fixture
def admin(db):
    return auth_headers(db, Role.SUPER_ADMIN)


@pytest.fixture
def device(client, admin, keys_dir):
    return enrol_device(client, admin)


def _count(db, model=Scan) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_happy_path_stores_every_event_and_answers_each(client, db, admin, device):
    events = [make_event(device) for _ in range(25)]
    response = post_batch(client, device, batch_body(device, events))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [r["event_id"] for r in answer["results"]] == [e["event_id"] for e in events]
    assert {r["status"] for r in answer["results"]} == {"accepted"}
    assert abs(answer["server_time"] - dt.datetime.now(dt.UTC).timestamp()) < 60

    assert _count(db) == 25
    stored = db.get(Scan, events[3]["event_id"])
    assert (stored.device_id, stored.seq, stored.ok, stored.reason) == (device.device_id, 3, True, "valid")
    assert stored.pass_id == events[3]["pass_id"] and stored.issuer_kid == events[3]["issuer_kid"]
    assert abs(stored.scanned_at.timestamp() - events[3]["scanned_at"]) < 1e-3
    batch = db.scalars(select(ScanBatch)).one()
    assert (batch.events, batch.accepted, batch.duplicates, batch.rejected) == (25, 25, 0, 0)
    # Admins see when the device last synced.
    (listed,) = client.get(f"{API}/devices", headers=admin).json()
    assert dt.datetime.fromisoformat(listed["last_upload_at"]) == batch.received_at


def test_replayed_batch_is_409_and_changes_nothing(client, db, device):
    body = batch_body(device, [make_event(device) for _ in range(5)])
    assert post_batch(client, device, body).status_code == 200
    replay = post_batch(client, device, body)
    assert replay.status_code == 409
    assert replay.json()["error"] == "batch_replayed"
    # Same batch id with new events: still refused, and the new events are not stored either.
    doc = json.loads(body)
    doc["events"] = [make_event(device) for _ in range(3)]
    again = json.dumps(doc).encode()
    assert post_batch(client, device, again).status_code == 409
    assert _count(db) == 5 and _count(db, ScanBatch) == 1


def test_tampered_body_is_401(client, db, device):
    body = batch_body(device, [make_event(device)])
    signature = device.key.sign(body)
    tampered = body.replace(b'"ok": true', b'"ok": false')
    assert tampered != body
    response = post_batch(client, device, tampered, signature=signature)
    assert response.status_code == 401 and response.json()["error"] == "bad_signature"
    assert post_batch(client, device, body, signature=b"\0" * 64).status_code == 401
    no_sig = client.post(f"{API}/scans/batches", content=body, headers={"X-Device-Id": device.device_id})
    assert no_sig.status_code == 401
    assert _count(db) == 0


def test_unknown_device_is_401(client, db, device):
    body = batch_body(device, [make_event(device)])
    assert post_batch(client, device, body, device_id=str(uuid.uuid4())).status_code == 401
    assert post_batch(client, device, body, device_id="not-a-device").status_code == 401
    assert _count(db) == 0


def test_other_device_cannot_speak_for_a_device(client, db, admin, device):
    intruder = enrol_device(client, admin)
    body = batch_body(device, [make_event(device)])  # claims to be `device` in the body
    response = post_batch(client, intruder, body)  # signed by, and headed as, the intruder
    assert response.status_code == 401 and response.json()["error"] == "device_mismatch"
    assert _count(db) == 0


def test_revoked_device_is_403(client, db, admin, device):
    assert client.post(f"{API}/devices/{device.device_id}/revoke", headers=admin).status_code == 200
    response = post_batch(client, device, batch_body(device, [make_event(device)]))
    assert response.status_code == 403 and response.json()["error"] == "device_revoked"
    assert _count(db) == 0


def test_events_sent_again_are_duplicates(client, db, device):
    events = [make_event(device) for _ in range(4)]
    assert post_batch(client, device, batch_body(device, events[:3])).status_code == 200
    # The device did not hear the answer and re-sends under a new batch id, with one new event.
    response = post_batch(client, device, batch_body(device, events))
    assert [r["status"] for r in response.json()["results"]] == ["duplicate"] * 3 + ["accepted"]
    assert _count(db) == 4
    # The same event twice inside one batch: the second copy is a duplicate.
    fresh = make_event(device)
    response = post_batch(client, device, batch_body(device, [fresh, fresh]))
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate"]
    assert _count(db) == 5


def test_seq_reused_by_a_different_event_is_rejected(client, db, device):
    first = make_event(device)
    assert post_batch(client, device, batch_body(device, [first])).status_code == 200
    clash = make_event(device, seq=first["seq"])
    twins = [make_event(device, seq=1000), make_event(device, seq=1000)]
    response = post_batch(client, device, batch_body(device, [clash, *twins]))
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted", "rejected"]
    assert "seq" in results[0]["error"] and "seq" in results[2]["error"]
    assert _count(db) == 2


def test_event_id_of_another_device_is_rejected(client, db, admin, device):
    other = enrol_device(client, admin)
    event = make_event(device)
    assert post_batch(client, device, batch_body(device, [event])).status_code == 200
    stolen = dict(event, seq=0)
    response = post_batch(client, other, batch_body(other, [stolen]))
    assert response.json()["results"][0]["status"] == "rejected"
    assert _count(db) == 1


MALFORMED_EVENTS = [
    ({"event_id": "not-a-uuid"}, "event_id"),
    ({"seq": -1}, "seq"),
    ({"seq": "7"}, "seq"),
    ({"seq": True}, "seq"),
    ({"scanned_at": "yesterday"}, "scanned_at"),
    ({"scanned_at": 12.5}, "scanned_at"),
    ({"ok": "yes"}, "ok"),
    ({"reason": "Not A Reason!"}, "reason"),
    ({"pass_id": "xyz"}, "pass_id"),
    ({"issuer_kid": "00"}, "issuer_kid"),
    ({"serial": -3}, "serial"),
    ({"trust_age_s": 1.5}, "trust_age_s"),
    ({"hlc": ""}, "hlc"),
    ({"officer_id": "x" * 33}, "officer_id"),
    ({"stale": None}, "stale"),
]


def test_malformed_events_are_rejected_alone(client, db, device):
    """Each bad event is answered "rejected" with the field at fault; the good ones around it are stored."""
    events, expected = [], []
    for change, field in MALFORMED_EVENTS:
        events += [make_event(device), make_event(device, **change)]
        expected += [("accepted", None), ("rejected", field)]
    events.append(make_event(device))
    expected.append(("accepted", None))
    response = post_batch(client, device, batch_body(device, events))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [status for status, _ in expected]
    for result, (_, field) in zip(results, expected, strict=True):
        if field is not None:
            assert result["error"].startswith(field), result
    assert _count(db) == len(MALFORMED_EVENTS) + 1


def test_event_older_than_retention_is_rejected(client, db, device, settings):
    now = dt.datetime.now(dt.UTC).timestamp()
    old = make_event(device, scanned_at=now - (settings.retention_days + 1) * 86400)
    recent = make_event(device, scanned_at=now - (settings.retention_days - 1) * 86400)
    results = post_batch(client, device, batch_body(device, [old, recent])).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"]
    assert "retention" in results[0]["error"]
    assert _count(db) == 1


def test_purge_drops_old_batch_records_and_a_replay_after_it_restores_nothing(db, client, device, settings):
    """Batch records go with the same retention as scans; a batch replayed once its record is purged
    is not refused as a replay, but its events are all older than retention, so nothing comes back."""
    days = settings.retention_days
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days + 1)
    old_events = [make_event(device, scanned_at=then.timestamp() - 60) for _ in range(3)]
    old_body = batch_body(device, old_events)
    old_signature = base64.b64encode(device.key.sign(old_body)).decode()

    def upload_old(now: dt.datetime) -> Any:
        outcome = ingest_batch(
            db,
            header_device_id=device.device_id,
            signature_b64=old_signature,
            body=old_body,
            retention_days=days,
            now=now,
        )
        db.commit()  # the test is the unit of work (hub.services.unit_of_work): services never commit
        return outcome

    assert upload_old(then).accepted == 3  # received back then, inside the retention window
    recent = batch_body(device, [make_event(device)])
    assert post_batch(client, device, recent).status_code == 200
    assert (_count(db), _count(db, ScanBatch)) == (4, 2)

    result = purge_expired(db)
    db.commit()
    assert (result.scans, result.scan_batches) == (3, 1)
    assert (_count(db), _count(db, ScanBatch)) == (1, 1)
    assert db.scalars(select(ScanBatch.batch_id)).one() == json.loads(recent)["batch_id"]

    replay = upload_old(dt.datetime.now(dt.UTC))
    assert (replay.accepted, replay.duplicates, replay.rejected) == (0, 0, 3)
    assert all("retention" in r["error"] for r in replay.results)
    assert _count(db) == 1


def test_non_object_events_are_rejected_alone(client, db, device):
    good = make_event(device)
    response = post_batch(client, device, batch_body(device, [good, 42, None, "x"]))
    assert [r["status"] for r in response.json()["results"]] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert _count(db) == 1


def test_malformed_body_is_422(client, db, device):
    events_not_a_list = {
        "device_id": device.device_id,
        "batch_id": str(uuid.uuid4()),
        "sent_at": 1.8e9,
        "events": {},
    }
    no_batch_id = {"device_id": device.device_id, "sent_at": 1.8e9, "events": []}
    for body in [
        b"not json",
        b"[]",
        b"\xff\xfe",
        json.dumps(events_not_a_list).encode(),
        json.dumps(no_batch_id).encode(),
    ]:
        response = post_batch(client, device, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "invalid_batch"
    assert _count(db) == 0 and _count(db, ScanBatch) == 0


def test_oversize_batch_is_413(client, app, db, device, settings):
    events = [make_event(device) for _ in range(1001)]
    response = post_batch(client, device, batch_body(device, events))
    assert response.status_code == 413
    changed = settings.model_copy(update={"max_events_per_batch": 10})
    app.dependency_overrides[get_app_settings] = lambda: changed
    try:
        assert post_batch(client, device, batch_body(device, events[:11])).status_code == 413
        assert post_batch(client, device, batch_body(device, events[:10])).status_code == 200
    finally:
        app.dependency_overrides.clear()
    assert _count(db) == 10


def test_scans_by_officer_returns_that_officers_scans_in_the_window(client, db, device):
    now = dt.datetime.now(dt.UTC).timestamp()
    events = [
        make_event(device, officer_id="7", scanned_at=now - 3600),
        make_event(device, officer_id="7", scanned_at=now - 60, ok=False, reason="revoked"),
        make_event(device, officer_id="8", scanned_at=now - 60),
        make_event(device, officer_id="7", scanned_at=now - 3 * 86400),
    ]
    assert post_batch(client, device, batch_body(device, events)).status_code == 200
    since = dt.datetime.fromtimestamp(now - 86400, dt.UTC)
    until = dt.datetime.fromtimestamp(now, dt.UTC)
    found = scans_by_officer(db, 7, since, until)
    assert [r.event_id for r in found] == [events[0]["event_id"], events[1]["event_id"]]
    assert found[1].ok is False and found[1].reason == "revoked"
    assert found[0].device_name and found[0].device_id == device.device_id


def test_concurrent_batches_with_the_same_events_store_each_once(app, db, device):
    """Two uploads racing with the same events (a retry overtaking the original): exactly one copy each."""
    events = [make_event(device) for _ in range(300)]
    bodies = [batch_body(device, events[:200]), batch_body(device, events[100:])]
    outcomes: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def upload(i: int) -> None:
        with unit_of_work(app.state.sessionmaker) as session:
            barrier.wait()
            outcomes[i] = ingest_batch(
                session,
                header_device_id=device.device_id,
                signature_b64=base64.b64encode(device.key.sign(bodies[i])).decode(),
                body=bodies[i],
            )

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.accepted for o in outcomes) == 300
    assert sum(o.duplicates for o in outcomes) == 100
    assert sum(o.rejected for o in outcomes) == 0
    assert _count(db) == 300
