"""Every console page, as each role sees it, at a phone (390×844) and a desktop (1366×768) size: axe-core
finds no serious or critical WCAG 2.x AA violation, nothing scrolls sideways, no name wraps one character
per line, and the login and a data form work from the keyboard alone. Screenshots of each page at both
sizes go to build/test-artifacts/console/a11y/."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.hub.a11ykit import DESKTOP, PHONE, layout_problems, serious_violations
from tests.hub.console.test_console_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    PASSWORD,
    SUPER,
    _first_login,
    browser_type_launch_args,
    live_hub,
)

SHOTS = ARTIFACTS / "a11y"


@pytest.fixture(scope="module")
def world(live_hub) -> dict[str, Any]:  # noqa: F811
    """A station with an admin, officers, a device and a day of checks; an enterprise with employees."""
    from hub.core.permissions import Permission
    from hub.models.devices import Device, Scan, ScanBatch
    from hub.models.identity import Role, User
    from hub.models.organisations import Organisation, OrgKind
    from hub.services import admins, employees, rosters, stations
    from hub.services.scope import Scope

    now = dt.datetime.now(dt.UTC)
    with live_hub.db() as db:
        scope = Scope.of(db.scalars(select(User).where(User.mobile == SUPER)).one())
        general = admins.create_general_admin(
            db, scope, mobile="+886911000003", name="歐陽查詢員", permissions={Permission.QUERY_PASSES}
        )
        station = stations.create_station(db, scope, data=stations.StationIn(name="三重分局"))
        station_admin = stations.add_station_admin(
            db,
            scope,
            data=stations.StationAdminIn(
                name="林警官", mobile="0922000009", national_id="A123456789", station_id=station.id
            ),
        )
        officer = rosters.OFFICERS.add(
            db,
            scope,
            org_id=station.id,
            data=rosters.OfficerIn(name="陳小明", officer_number="NTP-0002", mobile="0977000001"),
        )
        device = Device(
            id=str(uuid.uuid4()),
            name="三重一號機",
            public_key=secrets.token_bytes(32),
            station_id=station.id,
            last_sync_at=now - dt.timedelta(hours=3),
        )
        db.add(device)
        db.flush()
        batch = str(uuid.uuid4())
        db.add(
            ScanBatch(
                batch_id=batch,
                device_id=device.id,
                sent_at=now,
                received_at=now,
                events=9,
                accepted=9,
                duplicates=0,
                rejected=0,
            )
        )
        verdicts = ["ok"] * 4 + ["bad_signature", "not_ours", "not_ours", "revoked", "expired"]
        for seq, reason in enumerate(verdicts):
            at = now - dt.timedelta(minutes=37 * seq)
            db.add(
                Scan(
                    event_id=str(uuid.uuid4()),
                    device_id=device.id,
                    seq=seq,
                    batch_id=batch,
                    scanned_at=at,
                    received_at=at,
                    hlc=str(seq),
                    ok=reason == "ok",
                    reason=reason,
                    stale=False,
                )
            )
        company = Organisation(kind=OrgKind.ENTERPRISE.value, name="艾斯移動股份有限公司", ubn="28010606")
        db.add(company)
        db.flush()
        boss = User(
            mobile="+886933000001",
            name="曾可愛",
            role=Role.ENTERPRISE_ADMIN.value,
            org_id=company.id,
            permissions=[],
        )
        db.add(boss)
        db.flush()
        employee = employees.EMPLOYEES.add(
            db,
            scope,
            org_id=company.id,
            data=employees.EmployeeIn(name="王大明", mobile="0955000001", national_id="F131104093"),
        )
        db.commit()
        return {
            "general": general.id,
            "station": station.id,
            "station_admin": station_admin.id,
            "officer": officer.id,
            "company": company.id,
            "employee": employee.id,
        }


def _check(page: Any, url: str, name: str, failures: list[str]) -> None:
    """Open `url` at both sizes; note every serious axe violation and layout problem; screenshot both."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, label in ((PHONE, "390"), (DESKTOP, "1366")):
        page.set_viewport_size(size)
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        failures += [f"{name} @{label}: {problem}" for problem in layout_problems(page)]
        if label == "390":  # axe's rules do not depend on the width; once is enough (2 CPU cores)
            failures += [f"{name}: {v}" for v in serious_violations(page)]


def _sms_login(page: Any, hub: Any, mobile: str) -> None:
    page.goto(f"{hub.url}/console/login/sms")
    page.fill("input[name=mobile]", mobile)
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", hub.sms.code("+886" + mobile[1:]))
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/")


def test_login_pages_and_keyboard_login(page, live_hub):  # noqa: F811
    failures: list[str] = []
    _check(page, f"{live_hub.url}/console/login", "login", failures)
    _check(page, f"{live_hub.url}/console/login/sms", "login-sms", failures)
    assert failures == []

    # The whole password login by keyboard: Tab reaches the fields in order, Enter sends.
    from hub.services.bootstrap import create_super_admin  # noqa: F401 (the super admin exists: live_hub)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_hub.url}/console/login")
    initial = live_hub.sms.initial_password(SUPER)
    focused: list[str] = []
    for _ in range(12):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.name || document.activeElement.tagName")
        focused.append(name)
        if name == "mobile":
            page.keyboard.type(SUPER)
        elif name == "password":
            page.keyboard.type(initial)
            page.keyboard.press("Enter")
            break
    assert focused.index("mobile") < focused.index("password"), focused
    page.wait_for_url("**/console/password")
    # The forced password change, also by keyboard (a data form: two fields and a button).
    page.keyboard.press("Tab")
    for _ in range(12):
        if page.evaluate("document.activeElement.name") == "current_password":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(initial)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "new_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")


def test_every_page_of_each_role_passes_axe_and_fits_a_phone(page, live_hub, world, browser):  # noqa: F811
    url = live_hub.url + "/console"
    from sqlalchemy import select as _select

    from hub.models.identity import User

    with live_hub.db() as db:
        must_change = db.scalars(_select(User.must_change_password).where(User.mobile == SUPER)).one()
    if must_change:
        _first_login(page, live_hub, SUPER)
    else:
        page.goto(f"{url}/login")
        page.fill("input[name=mobile]", SUPER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/console/")
    failures: list[str] = []
    company, employee, station = world["company"], world["employee"], world["station"]
    for path, name in (
        ("/", "super-dashboard"),
        ("/admins", "super-admins"),
        (f"/admins/{world['general']}", "super-admin-detail"),
        ("/stations", "super-stations"),
        (f"/stations/admins/{world['station_admin']}", "super-station-admin"),
        (f"/stations/{station}/roster", "super-roster"),
        (f"/stations/{station}/officers/{world['officer']}", "super-officer"),
        ("/enterprises", "super-enterprises"),
        (f"/enterprises/{company}", "super-enterprise"),
        (f"/enterprises/{company}/employees/{employee}", "super-employee"),
        ("/registrations", "super-registrations"),
        ("/queries", "super-queries"),
        ("/devices", "super-devices"),
        ("/trust", "super-trust"),
        ("/audit", "super-audit"),
        ("/support", "super-support"),
        ("/account", "super-account"),
        ("/password", "super-password"),
    ):
        _check(page, url + path, name, failures)

    for mobile, role, paths in (
        (
            "0922000009",
            "station",
            [
                "/",
                "/queries",
                "/roster",
                f"/stations/{station}/officers/{world['officer']}",
                "/devices",
                "/account",
            ],
        ),
        (
            "0933000001",
            "enterprise",
            [
                "/",
                f"/enterprises/{company}",
                f"/enterprises/{company}/employees/{employee}",
                "/queries",
                "/account",
            ],
        ),
    ):
        context = browser.new_context()
        other = context.new_page()
        _sms_login(other, live_hub, mobile)
        for path in paths:
            slug = path.strip("/").replace("/", "-") or "dashboard"
            _check(other, url + path, f"{role}-{slug}", failures)
        context.close()
    assert failures == [], "\n".join(failures)
