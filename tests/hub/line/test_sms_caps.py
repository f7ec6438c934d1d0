"""SMS pumping: every path of the hub that sends an SMS code on a stranger's request has per-number and
per-address caps in the hub (hub.services.otp, one rule) and a rate limit in the nginx file; a check-in
code is sent only for a venue that exists, with caps of its own per venue.

The paths are the ones that reach `hub.services.otp.request_code` from a request (grep it): the REST
code request (every public purpose), the checkpoint app's officer login, the console's SMS login and
the LIFF station-registration form. The LINE chat's binding code comes through LINE's webhook, where
the peer is LINE itself: it is capped per number and per LINE user (docs/deploy.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.core.config import Settings
from hub.models.identity import OtpCode, Role
from tests.hub.console.consolekit import ORIGIN, csrf_of
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.test_devices_support import auth_headers, enrol_device, make_station

NGINX = Path(__file__).resolve().parents[3] / "deploy" / "nginx" / "checkpass.conf"
SMS_PATHS = (
    "/api/v1/otp/request",
    "/api/v1/officers/login/start",
    "/console/login/sms",
    "/liff/api/police/register/code",
    "/liff/api/enterprise/register/code",
)

Sender = Callable[[str, str], int]  # (client address, mobile) -> HTTP status of one code request


@pytest.fixture
def caps(app, settings):
    def set_caps(**caps: int) -> None:
        app.state.settings = app.state.context.settings = settings.model_copy(
            update={
                "otp_resend_cooldown_seconds": 0,
                "otp_hourly_cap_per_number": 100,
                "otp_hourly_cap_per_ip": 100,
                **caps,
            }
        )

    return set_caps


@pytest.fixture
def senders(app, db, standin, keys_dir) -> dict[str, Sender]:
    """One code request through each SMS path, from a given client address."""
    station = make_station(db, "板橋分局")
    device = enrol_device(TestClient(app), auth_headers(db, Role.STATION_ADMIN, org_id=station))
    users = iter(f"U{i:032x}" for i in range(1000))  # a fresh LINE user for every request

    def rest(address: str, mobile: str) -> int:
        client = TestClient(app, client=(address, 40000))
        return client.post("/api/v1/otp/request", json={"mobile": mobile, "purpose": "footprint"}).status_code

    def officer(address: str, mobile: str) -> int:
        client = TestClient(app, client=(address, 40000))
        body = {"device_id": device.device_id, "name": "陳大明", "mobile": mobile}
        return client.post("/api/v1/officers/login/start", json=body).status_code

    def console(address: str, mobile: str) -> int:
        client = TestClient(app, client=(address, 40000))
        form = client.get("/console/login/sms")
        posted = client.post(
            "/console/login/sms",
            data={"csrf": csrf_of(form.text), "mobile": "0" + mobile[4:]},
            headers={"Origin": ORIGIN},
        )
        return posted.status_code

    def liff(address: str, mobile: str) -> int:
        client = TestClient(app, client=(address, 40000))
        token = standin.issue_id_token(next(users))
        body = {"id_token": token, "mobile": "0" + mobile[4:]}
        return client.post("/liff/api/police/register/code", json=body).status_code

    def liff_enterprise(address: str, mobile: str) -> int:
        client = TestClient(app, client=(address, 40000))
        token = standin.issue_id_token(next(users))
        body = {
            "id_token": token,
            "company_name": "艾斯移動股份有限公司",
            "ubn": "04595257",
            "admin_name": "曾可愛",
            "admin_mobile": "0" + mobile[4:],
        }
        return client.post("/liff/api/enterprise/register/code", json=body).status_code

    return {
        "/api/v1/otp/request": rest,
        "/api/v1/officers/login/start": officer,
        "/console/login/sms": console,
        "/liff/api/police/register/code": liff,
        "/liff/api/enterprise/register/code": liff_enterprise,
    }


def _codes(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(OtpCode))


@pytest.mark.parametrize("path", SMS_PATHS)
def test_one_address_cannot_send_codes_to_many_numbers(path, senders, caps, db):
    caps(otp_hourly_cap_per_ip=2)
    send = senders[path]
    assert send("203.0.113.7", "+886912000001") < 300
    assert send("203.0.113.7", "+886912000002") < 300
    before = _codes(db)
    assert send("203.0.113.7", "+886912000003") == 429
    assert _codes(db) == before  # refused before anything is recorded or sent
    assert send("198.51.100.8", "+886912000003") < 300  # another address is another count


@pytest.mark.parametrize("path", SMS_PATHS)
def test_one_number_cannot_be_sent_many_codes_from_many_addresses(path, senders, caps):
    caps(otp_hourly_cap_per_number=2)
    send = senders[path]
    assert send("203.0.113.1", "+886912000009") < 300
    assert send("203.0.113.2", "+886912000009") < 300
    assert send("203.0.113.3", "+886912000009") == 429
    assert send("203.0.113.3", "+886912000010") < 300


def test_the_liff_form_from_one_address_stops_at_the_address_cap(client, standin, sms: SmsOutbox, caps):
    """The issue's measurement: 32 codes to 32 numbers from one address, each from another LINE user,
    with the default cap per address (30 an hour)."""
    cap = Settings.model_fields["otp_hourly_cap_per_ip"].default
    caps(otp_hourly_cap_per_ip=cap)
    answers = []
    for i in range(32):
        token = standin.issue_id_token(f"U{i:032x}")
        body = {"id_token": token, "mobile": f"09220{i:05d}"}
        answers.append(client.post("/liff/api/police/register/code", json=body).status_code)
    assert answers == [202] * cap + [429] * (32 - cap)
    assert len(sms.messages()) == cap


def test_one_line_user_cannot_send_codes_from_many_addresses(app, standin, caps, sms: SmsOutbox):
    caps(otp_hourly_cap_per_ip=2)
    token = standin.issue_id_token("U" + "e" * 32)
    answers = [
        TestClient(app, client=(f"203.0.113.{i}", 40000))
        .post("/liff/api/police/register/code", json={"id_token": token, "mobile": f"09220000{i:02d}"})
        .status_code
        for i in range(1, 4)
    ]
    assert answers == [202, 202, 429]
    assert len(sms.messages()) == 2


# --- check-in codes name a venue that exists ---


def _venue(hub: Hub, client: TestClient, name: str = "總部") -> str:
    token, org = hub.register_enterprise()
    venues = client.post(
        f"/api/v1/organisations/{org['id']}/venues",
        json={"names": [name, name + "二"], "address": "台北市"},
        headers=bearer(token),
    )
    assert venues.status_code == 201, venues.text
    return venues.json()[0]["code"], venues.json()[1]["code"]


def _visit_code(app, address: str, mobile: str, venue_code: str | None):
    body = {"mobile": mobile, "purpose": "visit", **({"venue_code": venue_code} if venue_code else {})}
    return TestClient(app, client=(address, 40000)).post("/api/v1/otp/request", json=body)


def test_a_check_in_code_for_a_venue_that_does_not_exist_is_not_sent(app, hub, client, sms: SmsOutbox, db):
    for venue_code, status in (("NOSUCHCODE", 404), (None, 400)):
        answer = _visit_code(app, "203.0.113.4", "+886912000001", venue_code)
        assert answer.status_code == status, answer.text
    assert sms.messages() == [] and _codes(db) == 0
    venue, _other = _venue(hub, client)
    assert _visit_code(app, "203.0.113.4", "+886912000001", venue.lower()).status_code == 200
    assert len(sms.messages("+886912000001")) == 1


def test_a_venue_has_caps_of_its_own(app, hub, client, caps, sms: SmsOutbox):
    venue, other = _venue(hub, client)
    caps(otp_hourly_cap_per_venue=2)
    statuses = [_visit_code(app, f"203.0.113.{i}", f"+88691200000{i}", venue).status_code for i in (1, 2, 3)]
    assert statuses == [200, 200, 429]
    refused = _visit_code(app, "203.0.113.9", "+886912000009", venue)
    assert refused.status_code == 429 and "venue" in refused.json()["detail"]
    assert _visit_code(app, "203.0.113.3", "+886912000003", other).status_code == 200


# --- and nginx slows each of those paths per address before a hub worker sees it ---


def test_the_nginx_file_rate_limits_every_sms_path():
    conf = NGINX.read_text()
    limited = {
        match.group(1)
        for match in re.finditer(r"location = (\S+) \{([^}]*)\}", conf)
        if "limit_req zone=checkpass_codes" in match.group(2) and "limit_req_status 429" in match.group(2)
    }
    assert set(SMS_PATHS) <= limited, set(SMS_PATHS) - limited
