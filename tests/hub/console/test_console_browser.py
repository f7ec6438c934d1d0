"""The console in a real Chromium (Debian's package, driven by pytest-playwright) against a hub served by
uvicorn on a loopback port: each seed admin flow and each role's menu through the browser, htmx working
under the strict CSP, forms from another origin, a stolen cookie after logout, XSS through text fields.
Screenshots of every page go to build/test-artifacts/console/."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hub.core.config import Settings
from hub.main import create_app
from tests.hub.hubkit import PASSPHRASE, SECRET, SmsOutbox, xlsx

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "build" / "test-artifacts" / "console"
SUPER = "+886911000001"
PASSWORD = "N3w-password!"
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'

if not Path(CHROMIUM).exists():  # with CI set the browser tests must run, so a missing browser fails
    if os.environ.get("CI", "").lower() in ("true", "1"):
        raise RuntimeError(f"CI is set but {CHROMIUM} is missing (scripts/bootstrap installs chromium)")
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright: Debian's chromium (Playwright's own download is not reachable here)."""
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveHub:
    def __init__(self, url: str, app: Any, sms: SmsOutbox) -> None:
        self.url = url
        self.app = app
        self.sms = sms

    def db(self) -> Any:
        return self.app.state.sessionmaker()


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory, _keys_template: Path) -> Iterator[LiveHub]:
    directory = tmp_path_factory.mktemp("console-hub")
    shutil.copytree(_keys_template, directory / "keys")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{directory / 'hub.db'}",
        keys_dir=directory / "keys",
        key_passphrase=PASSPHRASE,
        secret_key=SECRET,
        sms_gateway="file",
        sms_file_path=directory / "sms.jsonl",
        purge_interval_seconds=0,
        trust_publish_seconds=0,
        base_url=url,
        otp_resend_cooldown_seconds=0,
        otp_hourly_cap_per_ip=10_000,
        otp_daily_cap_per_ip=10_000,
        _env_file=None,
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    hub = LiveHub(url, app, SmsOutbox(directory / "sms.jsonl"))
    from hub.services.bootstrap import create_super_admin

    with hub.db() as db:
        create_super_admin(db, SUPER, "總管理者")
        db.commit()
    yield hub
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture
def watched(page: Any) -> Iterator[dict[str, list[str]]]:
    """Collects what must never happen on a console page: script errors, CSP violations, dialogs (XSS)."""
    seen: dict[str, list[str]] = {"errors": [], "dialogs": []}
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on(
        "console",
        lambda message: seen["errors"].append(message.text) if message.type == "error" else None,
    )

    def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield seen
    assert seen["dialogs"] == [], "a script from page data ran"
    assert [e for e in seen["errors"] if "Content Security Policy" in e or "Refused" in e] == []


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _menu(page: Any) -> list[str]:
    return page.locator("[data-menu]").evaluate_all("items => items.map(i => i.dataset.menu)")


def _password_login(page: Any, hub: LiveHub, mobile: str, password: str) -> None:
    page.goto(f"{hub.url}/console/login")
    page.fill("input[name=mobile]", mobile)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _first_login(page: Any, hub: LiveHub, mobile: str) -> None:
    """Initial password from the SMS, then the forced change."""
    initial = hub.sms.initial_password(mobile)
    _password_login(page, hub, mobile, initial)
    page.wait_for_url("**/console/password")
    page.fill("input[name=current_password]", initial)
    page.fill("input[name=new_password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/")


def _super_login(page: Any, hub: LiveHub) -> None:
    with hub.db() as db:
        from sqlalchemy import select

        from hub.models.identity import User

        must_change = db.scalars(select(User.must_change_password).where(User.mobile == SUPER)).one()
    if must_change:
        _first_login(page, hub, SUPER)
    else:
        _password_login(page, hub, SUPER, PASSWORD)
        page.wait_for_url("**/console/")


def test_flow1_super_admin_first_login_and_general_admin(page, live_hub, watched):
    page.goto(f"{live_hub.url}/console/login")
    _shot(page, "01-login")
    initial = live_hub.sms.initial_password(SUPER)
    _password_login(page, live_hub, SUPER, initial)
    page.wait_for_url("**/console/password")
    assert _menu(page) == []  # nothing but the password change until it is done
    _shot(page, "02-forced-password-change")
    page.fill("input[name=current_password]", initial)
    page.fill("input[name=new_password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/")
    assert _menu(page) == [
        "nav.dashboard",
        "nav.admins",
        "nav.stations",
        "nav.enterprises",
        "nav.review",
        "nav.queries",
        "nav.devices",
        "nav.trust",
        "nav.audit",
        "nav.support",
        "nav.account",
    ]
    assert page.locator("svg.chart").count() >= 1
    _shot(page, "03-dashboard")

    page.click("[data-menu='nav.admins']")
    page.fill("input[name=name]", "王一般")
    page.fill("input[name=mobile]", "0911000002")
    page.check("input[value='query.passes']")
    page.check("input[value='audit.read']")
    page.click("form[action='/console/admins'] button[type=submit]")
    page.wait_for_selector("text=已新增")
    assert "王*般" in page.inner_text("table.list") and "王一般" not in page.inner_text("table.list")
    _shot(page, "04-admins")
    page.click("table.list >> text=王*般")
    page.wait_for_selector("form[action^='/console/admins/']")
    _shot(page, "05-admin-detail")
    page.click("[data-menu='nav.account']")
    _shot(page, "06-account")
    page.click("text=English")
    page.wait_for_selector("text=My account")
    _shot(page, "07-account-english")
    page.click("text=中文")
    page.wait_for_selector("text=我的帳號")


def test_flow2_station_admins_and_the_import_report(page, live_hub, watched):
    _super_login(page, live_hub)
    page.goto(f"{live_hub.url}/console/stations")
    page.fill("form[action='/console/stations'] input[name=name]", "板橋分局")
    page.click("form[action='/console/stations'] button[type=submit]")
    page.wait_for_selector("#stations >> text=板橋分局")
    page.fill("form[action='/console/stations/admins'] input[name=name]", XSS[:64])
    page.fill("form[action='/console/stations/admins'] input[name=mobile]", "0922000001")
    page.fill("form[action='/console/stations/admins'] input[name=national_id]", "A123456789")
    page.select_option("select[name=station_id]", label="板橋分局")
    page.click("form[action='/console/stations/admins'] button[type=submit]")
    page.wait_for_selector("text=已新增")
    assert page.locator("#station-admins img").count() == 0  # the name is text, not markup

    workbook = Path(ARTIFACTS.parent / "console-import.xlsx")
    workbook.parent.mkdir(parents=True, exist_ok=True)
    workbook.write_bytes(
        xlsx(
            [
                ["姓名", "手機", "身分證"],
                ["張警官", "0922000002", "A123456789"],
                [XSS[:60], "bad", "B123456780"],
            ]
        )
    )
    page.set_input_files("input[name=file]", str(workbook))
    page.click("form[action='/console/stations/import'] button[type=submit]")
    page.wait_for_selector("#import-report")
    report = page.inner_text("#import-report")
    assert "3" in report and "手機號碼" in report
    assert "0922000002" not in page.inner_text("#station-admins")  # nothing imported
    _shot(page, "08-stations-import-report")


def test_flow3_queries_through_htmx_and_the_audit_log(page, live_hub, watched):
    _super_login(page, live_hub)
    page.goto(f"{live_hub.url}/console/queries")
    _shot(page, "09-queries")
    page.select_option("select[name=kind]", "passes")
    with page.expect_response(lambda r: "/console/queries?" in r.url and r.request.headers.get("hx-request")):
        page.click("main form button[type=submit]")
    page.wait_for_selector("#results >> text=/共 \\d+ 筆/")
    _shot(page, "10-query-results")
    page.check("input[name=unmask]")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#results >> text=須填寫原因")  # the reason is required (a 400, swapped in)
    page.fill("input[name=reason]", "刑案偵查 113-001")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#results >> text=/共 \\d+ 筆/")
    page.goto(f"{live_hub.url}/console/audit?action=personal_data.unmask_reason")
    assert "刑案偵查 113-001" in page.inner_text("#audit")
    _shot(page, "11-audit")
    page.goto(f"{live_hub.url}/console/support")
    _shot(page, "12-support")
    page.goto(f"{live_hub.url}/console/devices")
    page.click("form[action='/console/devices/enrolment'] button[type=submit]")
    page.wait_for_selector("#enrolment img.qr")
    assert page.locator("#enrolment img.qr").evaluate("img => img.naturalWidth") > 0  # data: image allowed
    _shot(page, "12b-devices-enrolment-qr")
    page.goto(f"{live_hub.url}/console/trust")
    page.wait_for_selector("#issuers")
    _shot(page, "12c-keys-and-trust")


def test_each_roles_menu_and_hidden_urls(page, live_hub, watched, browser):
    import httpx

    # A general admin with only query.passes, a station admin and an enterprise admin.
    from hub.core.permissions import Permission
    from hub.services import admins, stations

    with live_hub.db() as db:
        from sqlalchemy import select

        from hub.models.identity import User
        from hub.services.scope import Scope

        scope = Scope.of(db.scalars(select(User).where(User.mobile == SUPER)).one())
        admins.create_general_admin(
            db, scope, mobile="+886911000003", name="查詢員", permissions={Permission.QUERY_PASSES}
        )
        station = stations.create_station(db, scope, data=stations.StationIn(name="三重分局"))
        stations.add_station_admin(
            db,
            scope,
            data=stations.StationAdminIn(
                name="林警官", mobile="0922000009", national_id="A123456789", station_id=station.id
            ),
        )
        db.commit()
    code_sent = httpx.post(
        f"{live_hub.url}/api/v1/otp/request",
        json={"mobile": "0933000001", "purpose": "enterprise_registration"},
    )
    assert code_sent.status_code == 200
    registered = httpx.post(
        f"{live_hub.url}/api/v1/enterprises/register",
        json={
            "company_name": "艾斯移動股份有限公司",
            "ubn": "28010606",
            "admin_name": "曾可愛",
            "admin_mobile": "0933000001",
            "code": live_hub.sms.code("+886933000001"),
        },
    )
    assert registered.status_code == 201, registered.text

    _first_login(page, live_hub, "+886911000003")
    assert _menu(page) == ["nav.dashboard", "nav.queries", "nav.support", "nav.account"]
    _shot(page, "13-general-admin-menu")
    for hidden in (
        "/console/admins",
        "/console/stations",
        "/console/audit",
        "/console/devices",
        "/console/trust",
    ):
        assert page.goto(f"{live_hub.url}{hidden}").status == 403, hidden
    _shot(page, "14-forbidden")

    for mobile, expected, name in (
        (
            "0922000009",
            ["nav.dashboard", "nav.queries", "nav.roster", "nav.devices", "nav.account"],
            "15-station-admin-menu",
        ),
        (
            "0933000001",
            ["nav.dashboard", "nav.enterprises", "nav.queries", "nav.account"],
            "16-enterprise-admin-menu",
        ),
    ):
        context = browser.new_context()
        other = context.new_page()
        other.goto(f"{live_hub.url}/console/login/sms")
        other.fill("input[name=mobile]", mobile)
        other.click("main button[type=submit]")
        other.wait_for_selector("input[name=code]")
        other.fill("input[name=code]", live_hub.sms.code("+886" + mobile[1:]))
        other.click("main button[type=submit]")
        other.wait_for_url("**/console/")
        assert _menu(other) == expected, mobile
        _shot(other, name)
        if "nav.enterprises" in expected:
            other.click("[data-menu='nav.enterprises']")
            other.wait_for_selector("#employees")
            _shot(other, "16b-enterprise-passes")
        for hidden in (
            "/console/admins",
            "/console/stations",
            "/console/audit",
            "/console/support",
            "/console/trust",
        ):
            assert other.goto(f"{live_hub.url}{hidden}").status == 403, (mobile, hidden)
        context.close()


class _EvilSite(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = (
            "<html><body><form id=f method=post action='" + self.target + "/console/admins'>"
            "<input name=name value=CSRF><input name=mobile value=0911000077>"
            "<input name=permissions value=admins.manage></form>"
            "<script>document.getElementById('f').submit()</script></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_a_form_posted_from_another_site_changes_nothing(page, live_hub):
    _super_login(page, live_hub)
    _EvilSite.target = live_hub.url
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EvilSite)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://localhost:{evil.server_address[1]}/")
        page.wait_for_load_state("networkidle")
        _shot(page, "17-csrf-attempt")
    finally:
        evil.shutdown()
    page.goto(f"{live_hub.url}/console/admins")
    assert "C*F" not in page.inner_text("table.list")  # the masked name of the forged admin
    with live_hub.db() as db:
        from sqlalchemy import select

        from hub.models.identity import User

        assert db.scalars(select(User).where(User.mobile == "+886911000077")).first() is None


def test_a_stolen_cookie_is_refused_after_logout(page, live_hub, browser):
    _super_login(page, live_hub)
    stolen = [c for c in page.context.cookies() if c["name"] == "checkpass_console"]
    assert stolen and stolen[0]["httpOnly"] and stolen[0]["sameSite"] == "Strict"
    page.click("#logout")
    page.wait_for_url("**/console/login")
    thief = browser.new_context()
    thief.add_cookies(stolen)
    thief_page = thief.new_page()
    thief_page.goto(f"{live_hub.url}/console/admins")
    assert "/console/login" in thief_page.url
    _shot(thief_page, "18-stolen-cookie-refused")
    thief.close()


def test_a_planted_session_id_is_replaced_at_login(page, live_hub):
    page.context.add_cookies(
        [{"name": "checkpass_console", "value": "planted", "domain": "127.0.0.1", "path": "/console"}]
    )
    _super_login(page, live_hub)
    values = [c["value"] for c in page.context.cookies() if c["name"] == "checkpass_console"]
    assert values and "planted" not in values
