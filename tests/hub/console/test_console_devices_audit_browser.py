"""In a real Chromium (as test_console_browser.py): the devices page with the queue lag and app version a
device reported through a signed batch, and the audit log viewer's filters (in the URL, shareable), its
pages, a malformed date answered with a message, and the CSV export. Screenshots into
build/test-artifacts/console/."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx

from crypto.keys import KeyPair
from tests.hub.console import test_console_browser as browser_kit
from tests.hub.console.test_console_browser import SUPER, LiveHub, _shot, _super_login

# The same browser, live hub (uvicorn on loopback) and page watcher as the console's browser tests.
browser_type_launch_args = browser_kit.browser_type_launch_args
live_hub = browser_kit.live_hub
watched = browser_kit.watched

TAIPEI = ZoneInfo("Asia/Taipei")
# The hub's answer time on a CI machine running the suite on every core beside a browser, not httpx's 5 s
# default: one CI run (2026-12-08) timed out asking for an enrolment token, where the whole test takes
# about 2 s even beside three CPU hogs. A hub that hung would still fail.
API_TIMEOUT = 60


def _admin_token(hub: LiveHub) -> dict[str, str]:
    from sqlalchemy import select

    from hub.core.protection import token_hash
    from hub.db import utcnow
    from hub.models.identity import ApiToken, User

    token = secrets.token_urlsafe(24)
    with hub.db() as db:
        user_id = db.scalars(select(User.id).where(User.mobile == SUPER)).one()
        db.add(
            ApiToken(
                token_hash=token_hash(token), user_id=user_id, expires_at=utcnow() + dt.timedelta(hours=1)
            )
        )
        db.commit()
    return {"Authorization": f"Bearer {token}"}


def _station(hub: LiveHub, name: str) -> int:
    from hub.models.organisations import Organisation, OrgKind

    with hub.db() as db:
        station = Organisation(kind=OrgKind.STATION.value, name=name)
        db.add(station)
        db.commit()
        return int(station.id)


def _enrol(hub: LiveHub, headers: dict[str, str], station_id: int, name: str) -> tuple[str, KeyPair]:
    import base64

    ticket = httpx.post(
        f"{hub.url}/api/v1/devices/enrolment-tokens",
        json={"station_id": station_id},
        headers=headers,
        timeout=API_TIMEOUT,
    )
    assert ticket.status_code == 201, ticket.text
    key = KeyPair.generate()
    enrolled = httpx.post(
        f"{hub.url}/api/v1/devices/enrol",
        json={
            "token": ticket.json()["token"],
            "public_key": base64.b64encode(key.public_key).decode(),
            "name": name,
        },
        timeout=API_TIMEOUT,
    )
    assert enrolled.status_code == 200, enrolled.text
    return enrolled.json()["device_id"], key


def _report(hub: LiveHub, device_id: str, key: KeyPair, **report: Any) -> None:
    """A signed status report, as checkpoint_app/sync.py sends one."""
    import base64

    body = json.dumps(
        {
            "device_id": device_id,
            "batch_id": str(uuid.uuid4()),
            "sent_at": time.time(),
            "events": [],
            **report,
        }
    ).encode()
    answer = httpx.post(
        f"{hub.url}/api/v1/scans/batches",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Device-Id": device_id,
            "X-Device-Signature": base64.b64encode(key.sign(body)).decode(),
        },
        timeout=API_TIMEOUT,
    )
    assert answer.status_code == 200, answer.text


def test_devices_page_shows_queue_lag_and_app_version(page, live_hub, watched):
    _super_login(page, live_hub)  # first: the API refuses a super admin whose initial password stands
    headers = _admin_token(live_hub)
    station = _station(live_hub, "板橋分局")
    behind, behind_key = _enrol(live_hub, headers, station, "板橋路檢一號")
    lag = {"waiting": 3, "oldest_age_s": 2 * 3600 + 120}
    _report(live_hub, behind, behind_key, app_version="1.4.0", queue=lag)
    quiet, _ = _enrol(live_hub, headers, station, "板橋路檢二號")

    page.goto(f"{live_hub.url}/console/devices")
    row = page.locator(f"tr[data-device='{behind}']")
    assert "3 筆待傳，最舊 2 小時" in row.locator("td.queue").inner_text()
    assert row.locator("td.app-version").inner_text() == "1.4.0"
    synced = row.locator("td.last-sync").inner_text()
    now_taipei = dt.datetime.now(TAIPEI)
    assert synced.startswith(now_taipei.strftime("%Y-%m-%d")), synced  # Taipei date, not UTC's
    assert "⚠" not in synced
    quiet_row = page.locator(f"tr[data-device='{quiet}']")
    assert "從未同步" in quiet_row.locator("td.last-sync").inner_text()
    assert "超過 1 小時未同步" in quiet_row.inner_text()
    assert quiet_row.locator("td.app-version").inner_text() == "未回報"
    assert "台北時間" in page.inner_text("main")
    _shot(page, "20-devices-queue-lag-and-version")


def test_audit_filters_pages_bad_date_and_csv(page, live_hub, watched, tmp_path):
    _super_login(page, live_hub)
    headers = _admin_token(live_hub)
    station = _station(live_hub, "三重分局")
    device, _ = _enrol(live_hub, headers, station, "三重路檢一號")
    for _ in range(2):  # two refused logins: entries of outcome "refused"
        wrong = {"mobile": "0911000001", "password": "wrong password"}
        # a refused login is slowed on purpose (docs/identity.md), more so on a CI machine running the suite
        # on every core: httpx's 5 s default is not the hub's answer time
        failed = httpx.post(f"{live_hub.url}/api/v1/auth/login", json=wrong, timeout=API_TIMEOUT)
        assert failed.status_code == 401, failed.text
    page.goto(f"{live_hub.url}/console/audit")
    assert "台北時間" in page.inner_text("#audit-filters")

    # Target: the device, by its id; the filter goes into the URL.
    page.select_option("select[name=target_kind]", "device")
    page.fill("input[name=target_id]", device)
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**/console/audit?*target_kind=device*")
    actions = page.locator("#audit tbody tr td:nth-child(3)").all_inner_texts()
    assert actions == ["device.enrolled"], actions
    _shot(page, "21-audit-filter-device")

    # Outcome and a Taipei time range (today, as a date: the whole day).
    today = dt.datetime.now(TAIPEI).strftime("%Y-%m-%d")
    page.goto(f"{live_hub.url}/console/audit")
    page.select_option("select[name=outcome]", "refused")
    page.fill("input[name=since]", today)
    page.fill("input[name=until]", today)
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**/console/audit?*outcome=refused*")
    actions = page.locator("#audit tbody tr td:nth-child(3)").all_inner_texts()
    assert actions and set(actions) == {"login.failed"}, actions
    assert set(page.locator("#audit tbody tr td:nth-child(4)").all_inner_texts()) == {"拒絕"}
    shared = page.url
    query = parse_qs(urlsplit(shared).query)
    assert query["outcome"] == ["refused"] and query["since"] == [today]
    _shot(page, "22-audit-filter-refused-today")

    # The URL is the filter: opened again (shared), it shows the same rows with the form filled in.
    page.goto(f"{live_hub.url}/console/")
    page.goto(shared)
    assert page.locator("#audit tbody tr td:nth-child(3)").all_inner_texts() == actions
    assert page.input_value("input[name=since]") == today
    assert page.locator("select[name=outcome]").input_value() == "refused"

    # CSV of the filtered view.
    with page.expect_download() as download_info:
        page.click("#audit-csv")
    path = tmp_path / "audit.csv"
    download_info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == actions and rows[0][1] == "時間（台北，UTC+8）"

    # A malformed date: a message naming the field, the field marked, no list (the pager and each
    # filter's exact narrowing are checked on the HTTP level, test_console_devices_audit.py).
    page.goto(f"{live_hub.url}/console/audit")
    page.fill("input[name=since]", "2026-13-45")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector("#audit-error")
    assert "「起」的時間格式不對" in page.inner_text("#audit-error")
    assert page.locator("input[name=since][aria-invalid=true]").count() == 1
    assert page.locator("#audit").count() == 0
    _shot(page, "23-audit-bad-date")
