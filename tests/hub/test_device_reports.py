"""A device's report (app version, upload queue) on its scan batches: stored, listed, validated, scoped.

docs/checkpoint-sync.md, "Device report". The wire change is backward compatible (a batch without the
fields is taken and keeps what the hub knew) and a bad value refuses the batch whole, changing nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text

from hub.db import make_engine
from hub.migrations import alembic_config, downgrade_to_base, upgrade_to_head
from hub.models.devices import Scan, ScanBatch
from hub.models.identity import Role
from hub.services.devices.device_report import is_quiet
from tests.hub.test_devices_support import (
    API,
    auth_headers,
    enrol_device,
    make_event,
    make_station,
    post_batch,
)


def body_of(device: Any, events: list[dict[str, Any]], **report: Any) -> bytes:
    doc = {"device_id": device.device_id, "batch_id": str(uuid.uuid4()), "sent_at": 1_790_000_000.0}
    doc["events"] = events
    doc.update(report)
    return json.dumps(doc).encode()


@pytest.fixture
def admin(db):
    return auth_headers(db, Role.SUPER_ADMIN)


@pytest.fixture
def device(client, admin, keys_dir):
    return enrol_device(client, admin)


def listed(client, headers, device) -> dict[str, Any]:
    answer = client.get(f"{API}/devices", headers=headers)
    assert answer.status_code == 200, answer.text
    (row,) = [d for d in answer.json() if d["device_id"] == device.device_id]
    return row


def test_batch_with_version_and_queue_is_stored_and_listed(client, db, admin, device):
    before = listed(client, admin, device)
    assert (before["app_version"], before["queue_waiting"], before["last_upload_at"]) == (None, None, None)

    body = body_of(
        device,
        [make_event(device), make_event(device)],
        app_version="1.4.0+android",
        queue={"waiting": 3, "oldest_age_s": 7260},
    )
    answer = post_batch(client, device, body)
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == ["accepted", "accepted"]

    row = listed(client, admin, device)
    assert row["app_version"] == "1.4.0+android"
    assert (row["queue_waiting"], row["queue_oldest_age_s"]) == (3, 7260)
    db.expire_all()
    received = db.scalars(select(ScanBatch.received_at)).one()
    assert dt.datetime.fromisoformat(row["last_upload_at"]) == received
    assert dt.datetime.fromisoformat(row["queue_reported_at"]) == received


def test_batch_from_an_older_app_is_taken_and_keeps_the_last_report(client, db, admin, device):
    first = body_of(device, [make_event(device)], app_version="1.4.0", queue={"waiting": 0})
    assert post_batch(client, device, first).status_code == 200
    reported_at = listed(client, admin, device)["queue_reported_at"]

    old_style = body_of(device, [make_event(device)])  # no app_version, no queue: the wire before 0008
    answer = post_batch(client, device, old_style)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "accepted"
    row = listed(client, admin, device)
    assert (row["app_version"], row["queue_waiting"], row["queue_oldest_age_s"]) == ("1.4.0", 0, None)
    assert row["queue_reported_at"] == reported_at  # the queue was not reported again
    assert row["last_upload_at"] > reported_at  # but the device did sync


def test_empty_batch_is_a_status_report(client, db, admin, device):
    answer = post_batch(client, device, body_of(device, [], app_version="2.0.0", queue={"waiting": 0}))
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == []
    row = listed(client, admin, device)
    assert (row["app_version"], row["queue_waiting"]) == ("2.0.0", 0)
    assert row["last_upload_at"] is not None
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Scan)) == 0


BAD_REPORTS = [
    ({"app_version": ""}, "app_version"),
    ({"app_version": "1.0 beta"}, "app_version"),
    ({"app_version": "<script>"}, "app_version"),
    ({"app_version": "x" * 33}, "app_version"),
    ({"app_version": 14}, "app_version"),
    ({"queue": []}, "queue"),
    ({"queue": {}}, "queue.waiting"),
    ({"queue": {"waiting": -1, "oldest_age_s": 5}}, "queue.waiting"),
    ({"queue": {"waiting": True, "oldest_age_s": 5}}, "queue.waiting"),
    ({"queue": {"waiting": 2.5, "oldest_age_s": 5}}, "queue.waiting"),
    ({"queue": {"waiting": 10**12, "oldest_age_s": 5}}, "queue.waiting"),
    ({"queue": {"waiting": 3}}, "queue.oldest_age_s"),
    ({"queue": {"waiting": 3, "oldest_age_s": -60}}, "queue.oldest_age_s"),
    ({"queue": {"waiting": 3, "oldest_age_s": "2h"}}, "queue.oldest_age_s"),
    ({"queue": {"waiting": 0, "oldest_age_s": 60}}, "queue.oldest_age_s"),
]


@pytest.mark.parametrize(("report", "field"), BAD_REPORTS, ids=[f for _, f in BAD_REPORTS])
def test_bad_report_is_a_clear_422_and_changes_nothing(client, db, admin, device, report, field):
    good = body_of(device, [make_event(device)], app_version="1.0.0", queue={"waiting": 0})
    assert post_batch(client, device, good).status_code == 200
    before = listed(client, admin, device)

    answer = post_batch(client, device, body_of(device, [make_event(device)], **report))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "invalid_batch" and body["detail"].startswith(f"{field}:"), body
    assert listed(client, admin, device) == before  # version, queue and last sync untouched
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Scan)) == 1
    assert db.scalar(select(func.count()).select_from(ScanBatch)) == 1


def test_replayed_batch_cannot_put_back_an_old_report(client, db, admin, device):
    old = body_of(device, [make_event(device)], app_version="1.0.0", queue={"waiting": 9, "oldest_age_s": 60})
    assert post_batch(client, device, old).status_code == 200
    new = body_of(device, [], app_version="1.1.0", queue={"waiting": 0})
    assert post_batch(client, device, new).status_code == 200
    assert post_batch(client, device, old).status_code == 409
    row = listed(client, admin, device)
    assert (row["app_version"], row["queue_waiting"]) == ("1.1.0", 0)


def test_station_admin_lists_only_its_own_stations_devices(client, db, admin, keys_dir):
    banqiao, sanchong = make_station(db, "板橋分局"), make_station(db, "三重分局")
    ours_headers = auth_headers(db, Role.STATION_ADMIN, banqiao)
    theirs_headers = auth_headers(db, Role.STATION_ADMIN, sanchong)
    ours = enrol_device(client, ours_headers)
    theirs = enrol_device(client, theirs_headers)
    for device, version in ((ours, "1.0.0"), (theirs, "9.9.9")):
        body = body_of(device, [], app_version=version, queue={"waiting": 0})
        assert post_batch(client, device, body).status_code == 200

    mine = client.get(f"{API}/devices", headers=ours_headers).json()
    assert [(d["device_id"], d["app_version"]) for d in mine] == [(ours.device_id, "1.0.0")]
    # Asking for the other station by id is refused, not answered with its devices.
    other = client.get(f"{API}/devices", params={"station_id": sanchong}, headers=ours_headers)
    assert other.status_code == 403 and theirs.device_id not in other.text
    # A station admin whose station was never registered sees no device at all.
    stationless = auth_headers(db, Role.STATION_ADMIN, None)
    none = client.get(f"{API}/devices", headers=stationless)
    assert none.status_code == 403 and none.json()["error"] == "no_organisation"
    assert ours.device_id not in none.text and theirs.device_id not in none.text


def test_quiet_rule():
    now = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    assert is_quiet(None, None, now)  # never synced
    assert is_quiet(None, now - hour - dt.timedelta(seconds=1), now)
    assert not is_quiet(None, now - hour, now)
    assert not is_quiet(now, None, now)  # revoked devices are expected to be silent


def test_migration_backfills_last_sync_from_stored_batches(database_url, tmp_path):
    """Devices that synced before 0008 keep their last sync time."""
    engine = make_engine(database_url)
    try:
        downgrade_to_base(engine)
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0007")
        at = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO devices (id, name, public_key, enrolled_at) VALUES"
                    " ('d1', 'a', :k1, :at), ('d2', 'b', :k2, :at)"
                ),
                {"k1": b"1" * 32, "k2": b"2" * 32, "at": at},
            )
            for i, hours in enumerate((1, 5)):
                c.execute(
                    text(
                        "INSERT INTO scan_batches (batch_id, device_id, sent_at, received_at, events,"
                        " accepted, duplicates, rejected) VALUES (:b, 'd1', :at, :r, 0, 0, 0, 0)"
                    ),
                    {"b": f"b{i}", "at": at, "r": at + dt.timedelta(hours=hours)},
                )
        upgrade_to_head(engine)
        with engine.connect() as c:
            rows = dict(c.execute(text("SELECT id, last_sync_at FROM devices")).all())
        assert rows["d2"] is None
        got = rows["d1"]
        got = dt.datetime.fromisoformat(got) if isinstance(got, str) else got
        assert got.replace(tzinfo=None) == (at + dt.timedelta(hours=5)).replace(tzinfo=None)
    finally:
        engine.dispose()
