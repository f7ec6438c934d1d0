"""Console sessions from the attacker's side: forged forms, planted session ids, stolen cookies, idle
sessions, and the forced change of an initial password."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from hub.models.console import ConsoleSession
from hub.services.bootstrap import create_super_admin
from tests.hub.console.consolekit import ORIGIN, Console, csrf_of

MOBILE = "+886911000001"
NEW_PASSWORD = "N3w-password!"


@pytest.fixture
def console(client):
    return Console(client)


@pytest.fixture
def super_admin(hub, keys_dir):
    create_super_admin(hub.db, MOBILE, "總管理者")
    hub.db.commit()
    return MOBILE


def _logged_in(console, sms, mobile=MOBILE):
    first = console.login(mobile, sms.initial_password(mobile))
    assert first.status_code == 303 and first.headers["location"] == "/console/password"
    changed = console.post(
        "/console/password",
        {"current_password": sms.initial_password(mobile), "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/console/"
    return console


def test_pages_need_a_session(console):
    for path in ("/console/", "/console/admins", "/console/queries", "/console/audit", "/console/account"):
        response = console.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login")


def test_the_initial_password_must_be_changed_before_anything_else(console, super_admin, sms):
    response = console.login(MOBILE, sms.initial_password(MOBILE))
    assert response.headers["location"] == "/console/password"
    for path in ("/console/", "/console/admins", "/console/audit"):
        assert console.get(path).headers["location"] == "/console/password"
    weak = console.post(
        "/console/password", {"current_password": sms.initial_password(MOBILE), "new_password": "short"}
    )
    assert weak.status_code == 400
    assert console.get("/console/").headers["location"] == "/console/password"
    _changed = console.post(
        "/console/password", {"current_password": sms.initial_password(MOBILE), "new_password": NEW_PASSWORD}
    )
    assert console.get("/console/").status_code == 200


def test_wrong_password_is_refused_without_a_session(console, super_admin):
    response = console.login(MOBILE, "not-the-password-1")
    assert response.status_code == 401
    assert "checkpass_console=" not in response.headers.get("set-cookie", "")


def test_session_cookie_flags(console, super_admin, sms):
    response = console.login(MOBILE, sms.initial_password(MOBILE))
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("checkpass_console=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in tests; https requests get Secure (next test)


def test_cookie_is_secure_behind_https(app, super_admin, sms):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/console/login")
        response = client.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "mobile": MOBILE, "password": sms.initial_password(MOBILE)},
            headers={"Origin": "https://testserver"},
            follow_redirects=False,
        )
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("checkpass_console=")][0]
    assert "Secure" in cookie


def test_a_form_without_its_token_is_refused(console, super_admin, sms):
    _logged_in(console, sms)
    response = console.client.post(
        "/console/admins",
        data={"name": "攻擊者", "mobile": "0912345678", "permissions": "audit.read"},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "攻擊者" not in console.get("/console/admins").text


def test_a_form_from_another_origin_is_refused_even_with_the_token(console, super_admin, sms):
    _logged_in(console, sms)
    token = csrf_of(console.get("/console/admins").text)
    for headers in (
        {"Origin": "https://evil.example"},
        {},
        {"Origin": "null"},
        {"Referer": "https://evil.example/x"},
    ):
        response = console.client.post(
            "/console/admins",
            data={"csrf": token, "name": "攻擊者", "mobile": "0912345678"},
            headers=headers,
            follow_redirects=False,
        )
        assert response.status_code == 403, headers
    assert "攻擊者" not in console.get("/console/admins").text


def test_a_token_from_another_session_is_refused(app, console, super_admin, sms):
    from fastapi.testclient import TestClient

    _logged_in(console, sms)
    with TestClient(app) as other_client:
        other = Console(other_client)
        other.login(MOBILE, NEW_PASSWORD)
        foreign_token = csrf_of(other.get("/console/admins").text)
    response = console.client.post(
        "/console/admins",
        data={"csrf": foreign_token, "name": "甲", "mobile": "0912345678"},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_login_form_needs_its_token_too(console, super_admin, sms):
    response = console.client.post(
        "/console/login",
        data={"mobile": MOBILE, "password": sms.initial_password(MOBILE)},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_a_planted_session_id_is_never_adopted(console, super_admin, sms, db):
    """Session fixation: whatever id the browser carries before login, login issues a new one."""
    console.client.cookies.set("checkpass_console", "planted-by-attacker", path="/console")
    response = console.login(MOBILE, sms.initial_password(MOBILE))
    issued = response.cookies.get("checkpass_console")
    assert issued and issued != "planted-by-attacker"
    second = Console(console.client)
    again = second.login(MOBILE, sms.initial_password(MOBILE))
    assert again.cookies.get("checkpass_console") not in (None, issued)


@pytest.mark.parametrize(
    "planted",
    ["planted-by-attacker-0123456789", "Zm9yZ2VkLW5vbmNl.00112233445566778899aabbccddeeff"],
    ids=["any-text", "token-shaped"],
)
def test_a_planted_form_token_is_refused_at_login(console, super_admin, sms, db, planted):
    """Login CSRF: a form token the attacker set as a cookie (from a sibling subdomain, say) and posts
    back in the field is not one the hub issued: refused, no session, and the page hands out its own."""
    console.client.cookies.set("checkpass_console_form", planted, path="/console")
    response = console.client.post(
        "/console/login",
        data={"csrf": planted, "mobile": MOBILE, "password": sms.initial_password(MOBILE)},
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "checkpass_console=" not in response.headers.get("set-cookie", "")
    assert db.scalars(select(ConsoleSession)).all() == []
    form = console.get("/console/login")
    assert csrf_of(form.text) != planted and form.cookies.get("checkpass_console_form") == csrf_of(form.text)
    assert console.login(MOBILE, sms.initial_password(MOBILE)).status_code == 303  # the issued one works


def test_a_stolen_cookie_is_worthless_after_logout(app, console, super_admin, sms):
    from fastapi.testclient import TestClient

    _logged_in(console, sms)
    stolen = console.client.cookies.get("checkpass_console")
    assert console.post("/console/logout", {}, token_from="/console/account").status_code == 303
    with TestClient(app) as thief:
        thief.cookies.set("checkpass_console", stolen, path="/console")
        response = thief.get("/console/admins", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")


def test_logout_everywhere_ends_every_session(app, console, super_admin, sms):
    from fastapi.testclient import TestClient

    _logged_in(console, sms)
    with TestClient(app) as laptop_client:
        laptop = Console(laptop_client)
        laptop.login(MOBILE, NEW_PASSWORD)
        assert laptop.get("/console/").status_code == 200
        done = console.post("/console/logout/everywhere", {}, token_from="/console/account")
        assert done.status_code == 303
        assert laptop.get("/console/").status_code == 303
    assert console.get("/console/").status_code == 303


def test_an_idle_session_ends(console, super_admin, sms, db, settings):
    _logged_in(console, sms)
    idle = dt.timedelta(seconds=settings.console_idle_timeout_seconds + 5)
    db.execute(update(ConsoleSession).values(last_seen_at=dt.datetime.now(dt.UTC) - idle))
    db.commit()
    response = console.get("/console/")
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    assert db.scalars(select(ConsoleSession.ended_at)).all()[-1] is not None


def test_security_headers_on_every_console_page(console, super_admin, sms):
    _logged_in(console, sms)
    for path in ("/console/login", "/console/", "/console/admins"):
        response = console.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text and " on" + "click=" not in response.text


def test_assets_are_served_by_the_hub(console):
    page = console.get("/console/login").text
    assert 'src="/console/static/htmx-2.0.11.min.js"' in page and "https://" not in page
    assert console.get("/console/static/htmx-2.0.11.min.js").status_code == 200
    assert "Zero-Clause BSD" in console.get("/console/static/htmx-LICENSE.txt").text
    assert console.get("/console/static/console.css").status_code == 200


def test_language_switch_and_no_open_redirect(console):
    assert "管理者登入" in console.get("/console/login").text
    switched = console.get("/console/lang?to=en&next=/console/login")
    assert switched.headers["location"] == "/console/login"
    assert "Administrator login" in console.client.get("/console/login").text
    for evil in ("https://evil.example/", "//evil.example/console/", "/console/..//evil"):
        assert console.get(f"/console/lang?to=en&next={evil}").headers["location"] == "/console/"
