"""Console: the devices page with each device's upload queue and app version (what the device reported
with its batches), scoped to the caller's station; the audit log viewer's filters, pages and CSV export."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models.audit import AuditEvent
from hub.models.identity import Role, User
from hub.services.bootstrap import create_super_admin
from tests.hub.console.consolekit import Console
from tests.hub.console.test_console_pages import SUPER, XSS, _console_login
from tests.hub.test_devices_support import auth_headers, enrol_device, make_station, post_batch


def report_batch(client, device, *, version: str | None, waiting: int | None, oldest: int | None = None):
    doc: dict = {"device_id": device.device_id, "batch_id": str(uuid.uuid4()), "sent_at": 1_790_000_000}
    doc["events"] = []
    if version is not None:
        doc["app_version"] = version
    if waiting is not None:
        doc["queue"] = {"waiting": waiting, "oldest_age_s": oldest}
    answer = post_batch(client, device, json.dumps(doc).encode())
    assert answer.status_code == 200, answer.text


def device_row(html: str, device_id: str) -> str:
    match = re.search(rf'<tr data-device="{device_id}">(.*?)</tr>', html, re.S)
    assert match, f"device {device_id} not listed"
    return match.group(1)


@pytest.fixture
def super_console(hub, client, sms, keys_dir):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    return _console_login(client, sms, SUPER)


def station_admin_console(app, db, sms, mobile: str, station_id: int | None) -> tuple[TestClient, Console]:
    db.add(
        User(mobile=mobile, name="林警官", role=Role.STATION_ADMIN.value, org_id=station_id, permissions=[])
    )
    db.commit()
    other = TestClient(app)
    other.__enter__()
    console = Console(other)
    done = console.sms_login("0" + mobile[4:], lambda m: sms.code(mobile))
    assert done.status_code == 303, done.text
    return other, console


def test_devices_page_shows_queue_lag_version_and_last_sync(super_console, client, db):
    admin = auth_headers(db, Role.SUPER_ADMIN)
    behind, current, silent = (enrol_device(client, admin) for _ in range(3))
    report_batch(client, behind, version="1.4.0", waiting=3, oldest=2 * 3600 + 300)
    report_batch(client, current, version="1.5.0", waiting=0)

    page = super_console.get("/console/devices")
    assert page.status_code == 200
    row = device_row(page.text, behind.device_id)
    assert "3 筆待傳，最舊 2 小時" in row and "1.4.0" in row
    assert re.search(r'class="last-sync">\d{4}-\d{2}-\d{2} \d{2}:\d{2}<', row)  # synced now: no warning
    row = device_row(page.text, current.device_id)
    assert "無待傳" in row and "1.5.0" in row
    row = device_row(page.text, silent.device_id)
    assert "從未同步" in row and "超過 1 小時未同步" in row and row.count("未回報") == 2
    assert "台北時間" in page.text

    super_console.get("/console/lang?to=en&next=/console/devices")
    english = super_console.get("/console/devices").text
    assert "3 waiting, oldest 2 h" in device_row(english, behind.device_id)


def test_station_admin_sees_only_its_own_stations_devices(app, super_console, client, db, sms):
    banqiao, sanchong = make_station(db, "板橋分局"), make_station(db, "三重分局")
    ours = enrol_device(client, auth_headers(db, Role.STATION_ADMIN, banqiao))
    theirs = enrol_device(client, auth_headers(db, Role.STATION_ADMIN, sanchong))
    report_batch(client, ours, version="1.0.0", waiting=1, oldest=90)
    report_batch(client, theirs, version="9.9.9-theirs", waiting=7, oldest=7200)

    other, console = station_admin_console(app, db, sms, "+886922000001", banqiao)
    try:
        page = console.get("/console/devices")
        assert page.status_code == 200
        assert "1 筆待傳，最舊 1 分鐘" in device_row(page.text, ours.device_id)
        assert theirs.device_id not in page.text and "9.9.9-theirs" not in page.text
        assert "7 筆待傳" not in page.text
    finally:
        other.__exit__(None, None, None)

    # A station admin whose station was never registered sees no device at all.
    other, stationless = station_admin_console(app, db, sms, "+886922000002", None)
    try:
        refused = stationless.get("/console/devices")
        assert refused.status_code == 403
        for device in (ours, theirs):
            assert device.device_id not in refused.text
        assert "1.0.0" not in refused.text and "9.9.9-theirs" not in refused.text
    finally:
        other.__exit__(None, None, None)


def test_device_name_is_escaped_with_its_report(super_console, client, db, keys_dir):
    import base64

    from crypto.keys import KeyPair
    from tests.hub.test_devices_support import EnrolledDevice, enrol, new_token

    admin = auth_headers(db, Role.SUPER_ADMIN)
    key = KeyPair.generate()
    answer = enrol(client, new_token(client, admin)["token"], key, name=XSS[:64])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    device = EnrolledDevice(body["device_id"], key, base64.b64decode(body["root_public_key"]))
    report_batch(client, device, version="1.0.0", waiting=0)
    page = super_console.get("/console/devices").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


# --- audit log ------------------------------------------------------------------------------------


def _seed_audit(db) -> None:
    for action, target, details in [
        ("login.failed", "09***6***5", {"why": "unknown"}),
        ("device.revoked", "device:00000000-0000-0000-0000-000000000007", {}),
        ("pass.issued", "org:12", {"count": 4, "org_name": "新北物流"}),
        ("import.rejected", None, {"kind": "officers", "cell": "=cmd|' /C calc'!A0"}),
    ]:
        db.add(AuditEvent(action=action, target=target, details=details, client_ip="203.0.113.9"))
    db.commit()


def _shown_actions(html: str) -> list[str]:
    table = html[html.find('id="audit"') :]
    return re.findall(r"<tr><td>\d+</td><td>[^<]*</td><td>([a-z_.]+)</td>", table)


def test_audit_filters_are_in_the_url_and_narrow_the_list(super_console, db):
    _seed_audit(db)
    everything = super_console.get("/console/audit")
    assert {"login.failed", "device.revoked", "pass.issued", "import.rejected"} <= set(
        _shown_actions(everything.text)
    )
    refused = super_console.get("/console/audit?outcome=refused")
    assert _shown_actions(refused.text) == ["import.rejected", "login.failed"]
    assert 'value="refused" selected' in refused.text  # the form shows the filter it was given
    device = super_console.get(
        "/console/audit?target_kind=device&target_id=00000000-0000-0000-0000-000000000007"
    )
    assert _shown_actions(device.text) == ["device.revoked"]
    text = super_console.get("/console/audit?q=新北物流")
    assert _shown_actions(text.text) == ["pass.issued"] and 'value="新北物流"' in text.text
    timed = super_console.get("/console/audit?since=2020-01-01&until=2020-01-02")
    assert _shown_actions(timed.text) == [] and "共 0 筆" in timed.text


def test_bad_audit_filter_is_a_clear_message_not_a_crash(super_console, db):
    _seed_audit(db)
    for query, words in [
        ("since=2026-13-45", "「起」的時間格式不對"),
        ("until=2026-12-01&since=2026-12-05", "「迄」"),
        ("actor=abc", "使用者編號"),
        ("target_kind=device&target_id=nope", "UUID"),
        ("outcome=maybe", "允許或拒絕"),
        ("before=xyz", "分頁連結"),
    ]:
        answer = super_console.get(f"/console/audit?{query}")
        assert answer.status_code == 400, (query, answer.status_code)
        assert words in answer.text and 'id="audit-error"' in answer.text, query
        assert 'id="audit"' not in answer.text  # no unfiltered list under a filter that failed
        assert answer.headers["content-type"].startswith("text/html")
    csv_refused = super_console.get("/console/audit.csv?since=yesterday")
    assert csv_refused.status_code == 400 and "「起」的時間格式不對" in csv_refused.text


def test_audit_pages_keep_the_filters(super_console, db):
    for i in range(60):
        db.add(AuditEvent(action="login.failed", target=None, details={"n": i}))
        db.add(AuditEvent(action="login", target=None, details={"n": i}))
    db.commit()
    first = super_console.get("/console/audit?outcome=refused")
    assert len(_shown_actions(first.text)) == 50 and "共 60 筆" in first.text
    older = re.search(r'id="audit-older" href="([^"]+)"', first.text)
    assert older and "outcome=refused" in older.group(1)
    second = super_console.get(older.group(1).replace("&amp;", "&"))
    assert _shown_actions(second.text) == ["login.failed"] * 10
    newer = re.search(r'id="audit-newer" href="([^"]+)"', second.text)
    assert newer and "outcome=refused" in newer.group(1)
    assert 'id="audit-older"' not in second.text


def test_audit_csv_holds_the_filtered_view_masked_and_is_audited(super_console, db):
    _seed_audit(db)
    page = super_console.get("/console/audit?outcome=refused")
    link = re.search(r'id="audit-csv" href="([^"]+)"', page.text)
    assert link and link.group(1) == "/console/audit.csv?outcome=refused"
    exported = super_console.get(link.group(1))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][1] == "時間（台北，UTC+8）"
    assert [r[2] for r in rows[1:]] == ["import.rejected", "login.failed"]
    assert {r[3] for r in rows[1:]} == {"拒絕"}
    assert rows[2][6] == "09***6***5"  # masked, as on screen
    assert rows[1][1].endswith("+08:00")
    assert "203.0.113.9" not in exported.text  # the client address is not on screen, nor here
    assert not any(cell.startswith("=") for row in rows for cell in row)  # no formula runs in a sheet
    entry = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).one()
    assert entry.details == {"outcome": "refused", "rows": 2}


def test_audit_viewer_and_export_need_audit_read(app, super_console, db, sms):
    station = make_station(db, "板橋分局")
    other, console = station_admin_console(app, db, sms, "+886922000003", station)
    try:
        assert console.get("/console/audit?outcome=refused").status_code == 403
        assert console.get("/console/audit.csv").status_code == 403
    finally:
        other.__exit__(None, None, None)
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).first() is None
