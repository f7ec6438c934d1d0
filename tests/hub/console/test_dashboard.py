"""The dashboard's numbers: checks per Taipei hour by station, the verdict mix, devices not synced for
over an hour, passes per day; a station admin sees only its own station, an enterprise admin no checks."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from hub.models.devices import Device, Scan, ScanBatch
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.services.dashboard import TAIPEI, dashboard

NOW = dt.datetime(2026, 12, 2, 5, 30, tzinfo=dt.UTC)  # 13:30 in Taipei


def _station(db, name, synced_ago, scans):
    station = Organisation(kind=OrgKind.STATION.value, name=name)
    db.add(station)
    db.flush()
    # Ingestion notes each stored batch on its device (hub.services.devices.device_report.record_sync).
    device = Device(
        id=str(uuid.uuid4()),
        name=f"{name}機",
        public_key=secrets.token_bytes(32),
        station_id=station.id,
        last_sync_at=NOW - synced_ago,
    )
    db.add(device)
    db.flush()
    batch = str(uuid.uuid4())
    db.add(
        ScanBatch(
            batch_id=batch,
            device_id=device.id,
            sent_at=NOW,
            received_at=NOW - synced_ago,
            events=len(scans),
            accepted=len(scans),
            duplicates=0,
            rejected=0,
        )
    )
    for seq, (ago, ok, reason) in enumerate(scans):
        at = NOW - ago
        db.add(
            Scan(
                event_id=str(uuid.uuid4()),
                device_id=device.id,
                seq=seq,
                batch_id=batch,
                scanned_at=at,
                received_at=at,
                hlc=str(seq),
                ok=ok,
                reason=reason,
                stale=False,
            )
        )
    db.flush()
    return station


def test_checks_verdicts_and_stale_devices_by_scope(db, keys_dir):
    minutes = dt.timedelta(minutes=1)
    east = _station(
        db, "東區分局", dt.timedelta(minutes=10), [(5 * minutes, True, "ok"), (6 * minutes, False, "revoked")]
    )
    west = _station(
        db, "西區分局", dt.timedelta(hours=3), [(70 * minutes, True, "ok"), (30 * 60 * minutes, True, "ok")]
    )
    admin = User(mobile="+886911000001", role=Role.SUPER_ADMIN.value, permissions=[])
    west_admin = User(mobile="+886922000001", role=Role.STATION_ADMIN.value, org_id=west.id, permissions=[])
    enterprise = Organisation(kind=OrgKind.ENTERPRISE.value, name="公司", ubn="28010606")
    db.add_all([admin, west_admin, enterprise])
    db.flush()
    boss = User(
        mobile="+886933000001", role=Role.ENTERPRISE_ADMIN.value, org_id=enterprise.id, permissions=[]
    )
    db.add(boss)
    db.commit()

    board = dashboard(db, admin, now=NOW)
    assert board.hours[-1] == dt.datetime(2026, 12, 2, 13, 0, tzinfo=TAIPEI)
    assert board.checks_per_hour["東區分局"][-1] == 2  # 13:24 and 13:25 Taipei
    assert board.checks_per_hour["西區分局"][-2] == 1  # 12:20 Taipei; the one 30 h ago is outside
    assert board.verdicts == {"ok": 2, "revoked": 1}
    assert [d.station for d in board.stale_devices] == ["西區分局"]

    own = dashboard(db, west_admin, now=NOW)
    assert set(own.checks_per_hour) == {"西區分局"} and own.verdicts == {"ok": 1}
    assert [d.station for d in own.stale_devices] == ["西區分局"]

    none = dashboard(db, boss, now=NOW)
    assert none.shows_checks is False and none.checks_per_hour == {} and none.stale_devices == []
    assert east.id != west.id
