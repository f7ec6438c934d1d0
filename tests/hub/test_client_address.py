"""Which client address the per-address caps and the login throttle count: the direct peer, unless it
is a trusted proxy (HUB_TRUSTED_PROXIES, empty by default); then the nearest X-Forwarded-For hop that
is not a trusted proxy. A client never picks its own address with a header."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from hub.core.config import Settings
from hub.models.audit import AuditEvent
from hub.services.bootstrap import create_super_admin

SUPER = "+886911000001"

PASS = "client address test passphrase"


def _ask(client, mobile: str, forwarded: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/api/v1/otp/request", json={"mobile": mobile, "purpose": "footprint"}, headers=headers
    )


def _one_code_per_address(app, settings, **more) -> None:
    app.state.settings = app.state.context.settings = settings.model_copy(
        update={"otp_hourly_cap_per_ip": 1, **more}
    )


def test_by_default_a_forwarded_header_is_ignored(app, settings):
    _one_code_per_address(app, settings)
    local = TestClient(app, client=("127.0.0.1", 40000))
    assert _ask(local, "+886912000001", "203.0.113.1").status_code == 200
    r = _ask(local, "+886912000002", "203.0.113.2")  # a new header does not make a new address
    assert r.status_code == 429 and "address" in r.json()["detail"]


def test_behind_a_trusted_proxy_the_forwarded_client_counts(app, settings):
    _one_code_per_address(app, settings, trusted_proxies="10.0.0.0/8, 127.0.0.1")
    proxy = TestClient(app, client=("10.1.2.3", 40000))
    assert _ask(proxy, "+886912000001", "203.0.113.1").status_code == 200
    assert _ask(proxy, "+886912000002", "203.0.113.2").status_code == 200  # another client
    # The same client again, now with a made-up address in front: only the proxy's hop is believed.
    r = _ask(proxy, "+886912000003", "198.51.100.99, 203.0.113.1")
    assert r.status_code == 429
    # Two trusted proxies in a row: the hop before them is the client.
    assert _ask(proxy, "+886912000004", "203.0.113.4, 127.0.0.1").status_code == 200
    assert _ask(proxy, "+886912000005", "203.0.113.4, 127.0.0.1").status_code == 429


def test_a_peer_that_is_not_a_trusted_proxy_cannot_forward(app, settings):
    _one_code_per_address(app, settings, trusted_proxies="10.0.0.0/8")
    outsider = TestClient(app, client=("203.0.113.50", 40000))
    assert _ask(outsider, "+886912000001", "10.9.9.9").status_code == 200
    assert _ask(outsider, "+886912000002", "198.51.100.1").status_code == 429


def test_the_audit_records_the_real_client(app, db, settings):
    app.state.settings = app.state.context.settings = settings.model_copy(
        update={"trusted_proxies": "10.0.0.1"}
    )
    proxy = TestClient(app, client=("10.0.0.1", 40000))
    proxy.post(
        "/api/v1/auth/login",
        json={"mobile": "+886911000001", "password": "wrong"},
        headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.77"},
    )
    event = db.query(AuditEvent).filter(AuditEvent.action == "login.failed").one()
    assert event.client_ip == "203.0.113.77"


def test_a_bad_trusted_proxies_setting_stops_the_start():
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.local", _env_file=None)


# --- the scheme: behind nginx's TLS the console's cookies are Secure and its Origin is https ---

NGINX = "10.0.0.5"
HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}


def _set_cookie(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(name + "=")]
    assert found, response.headers
    return found[0]


def _cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def _console_login_through(peer: str, app, password: str) -> tuple[httpx.Response, httpx.Response]:
    """The login form and its POST as a browser behind nginx sends them (the cookie sent back by hand:
    the test client speaks http to the hub, as nginx does, and keeps Secure cookies to itself)."""
    browser = TestClient(app, client=(peer, 40000), base_url="http://hub.example")
    form = browser.get("/console/login", headers=HTTPS)
    cookie = _cookie_value(_set_cookie(form, "checkpass_console_form"))
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    posted = browser.post(
        "/console/login",
        data={"csrf": csrf, "mobile": SUPER, "password": password},
        headers={**HTTPS, "Origin": "https://hub.example", "Cookie": f"checkpass_console_form={cookie}"},
        follow_redirects=False,
    )
    return form, posted


def test_behind_a_trusted_tls_proxy_console_cookies_are_secure_and_the_https_origin_is_accepted(
    app, settings, hub, sms, db
):
    app.state.settings = app.state.context.settings = settings.model_copy(update={"trusted_proxies": NGINX})
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    form, posted = _console_login_through(NGINX, app, sms.initial_password(SUPER))
    assert "secure" in _set_cookie(form, "checkpass_console_form").lower()
    assert posted.status_code == 303, posted.text  # the https origin is this site's own
    assert "secure" in _set_cookie(posted, "checkpass_console").lower()
    event = db.query(AuditEvent).filter(AuditEvent.action == "login").one()
    assert event.client_ip == "198.51.100.20"


def test_the_same_headers_from_a_peer_that_is_no_trusted_proxy_are_ignored(app, settings, hub, sms, db):
    app.state.settings = app.state.context.settings = settings.model_copy(update={"trusted_proxies": NGINX})
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    form, posted = _console_login_through("203.0.113.9", app, sms.initial_password(SUPER))
    assert "secure" not in _set_cookie(form, "checkpass_console_form").lower()
    assert posted.status_code == 403  # it claimed https; its connection, and so this site, is http
    assert db.query(AuditEvent).filter(AuditEvent.action == "login").count() == 0


# --- the real server, as an operator runs it ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, trusted: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
            "HUB_KEYS_DIR": str(tmp_path / "keys"),
            "HUB_KEY_PASSPHRASE": PASS,
            "HUB_SMS_GATEWAY": "file",
            "HUB_SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
            "HUB_OTP_HOURLY_CAP_PER_IP": "1",
            "HUB_TRUSTED_PROXIES": trusted,
            # The code under test, not whichever checkout the venv's editable install points at.
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
    )
    cli = [sys.executable, "-m", "provisioning", "hub"]
    if not (tmp_path / "keys").exists():
        init = subprocess.run(
            [*cli, "init", "--super-admin", "0911000001"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert init.returncode == 0, init.stdout + init.stderr
    port = _free_port()
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise AssertionError(f"the hub did not start: {process.communicate(timeout=10)[0]}")


@pytest.mark.parametrize(("trusted", "second"), [("", 429), ("127.0.0.1", 200)], ids=["default", "proxy"])
def test_checkpass_hub_serve_believes_only_trusted_proxies(tmp_path, trusted, second):
    """A client on the hub's own machine (where a reverse proxy would be) sends made-up addresses and
    claims https: believed only when 127.0.0.1 is a trusted proxy, by uvicorn and the hub alike."""
    process, base = _serve(tmp_path, trusted)
    try:
        with httpx.Client(base_url=base) as client:
            assert _ask(client, "+886912000001", "203.0.113.1").status_code == 200
            assert _ask(client, "+886912000002", "203.0.113.2").status_code == second
            form = client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
            secure = "secure" in _set_cookie(form, "checkpass_console_form").lower()
            assert secure == (second == 200)
    finally:
        process.terminate()
        process.wait(timeout=10)
