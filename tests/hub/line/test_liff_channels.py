"""Each official account's LIFF app on a LINE Login channel of its own: an ID token is taken only from
the LIFF app of the channel the page serves. A token the enterprise LIFF app obtained is refused by the
police pages, and the other way round, even for a LINE user bound in both channels; the stand-in, like
LINE, verifies a token only for the channel it was issued for."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from tests.hub.hubkit import Hub, SmsOutbox
from tests.hub.line.linekit import LineChat, line_settings

ENTERPRISE_LOGIN, POLICE_LOGIN = "2000000011", "2000000022"
ADMIN, STATION_ADMIN = "+886933000001", "+886922000001"


@pytest.fixture
def settings(settings: Settings, standin: StandIn) -> Settings:
    return line_settings(
        settings,
        standin,
        line_login_channel_id=None,
        line_enterprise_login_channel_id=ENTERPRISE_LOGIN,
        line_police_login_channel_id=POLICE_LOGIN,
    )


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> str:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")
    return chat.user_id


def _verify_calls(standin: StandIn) -> list[str]:
    return [c.body["client_id"] for c in standin.calls(operation_id="verifyIdToken")]


def test_a_token_of_one_channels_liff_app_is_refused_by_the_others_pages(
    client: TestClient, standin: StandIn, sms: SmsOutbox, hub: Hub, super_admin_token: str
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    enterprise_admin = _bind(LineChat(client, standin, "enterprise"), sms, ADMIN)
    station = hub.create_station(super_admin_token)
    hub.station_admin_token(super_admin_token, station["id"], mobile=STATION_ADMIN)
    station_admin = _bind(LineChat(client, standin, "police"), sms, STATION_ADMIN, "林警官")

    def employees(token: str) -> int:
        return client.post("/liff/api/employees/list", json={"id_token": token}).status_code

    def officers(token: str) -> int:
        return client.post("/liff/api/officers/list", json={"id_token": token}).status_code

    # Each from its own LIFF app: taken, and the hub asked LINE as that app's channel.
    standin.reset_calls()
    assert employees(standin.issue_id_token(enterprise_admin, channel_id=ENTERPRISE_LOGIN)) == 200
    assert officers(standin.issue_id_token(station_admin, channel_id=POLICE_LOGIN)) == 200
    assert _verify_calls(standin) == [ENTERPRISE_LOGIN, POLICE_LOGIN]

    # The enterprise admin's token from the police LIFF app, the station admin's from the enterprise one.
    standin.reset_calls()
    crossed = [
        client.post(
            "/liff/api/employees/list",
            json={"id_token": standin.issue_id_token(enterprise_admin, channel_id=POLICE_LOGIN)},
        ),
        client.post(
            "/liff/api/officers/list",
            json={"id_token": standin.issue_id_token(station_admin, channel_id=ENTERPRISE_LOGIN)},
        ),
    ]
    assert [r.status_code for r in crossed] == [401, 401]
    assert {r.json()["error"] for r in crossed} == {"not_authenticated"}
    assert _verify_calls(standin) == [ENTERPRISE_LOGIN, POLICE_LOGIN]  # asked as its own channel only

    # The registration forms are each one channel's too.
    police_form = client.post(
        "/liff/api/police/register/code",
        json={
            "id_token": standin.issue_id_token(station_admin, channel_id=ENTERPRISE_LOGIN),
            "mobile": "0922000009",
        },
    )
    assert police_form.status_code == 401
    enterprise_form = client.post(
        "/liff/api/enterprise/register",
        json={"id_token": standin.issue_id_token(enterprise_admin, channel_id=POLICE_LOGIN)},
    )
    assert enterprise_form.status_code == 401
    assert sms.messages("+886922000009") == []


def test_check_in_and_footprint_take_either_channels_liff_app(
    client: TestClient, standin: StandIn, sms: SmsOutbox, hub: Hub
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    user = _bind(LineChat(client, standin, "enterprise"), sms, ADMIN)
    for channel_id in (ENTERPRISE_LOGIN, POLICE_LOGIN):
        answer = client.post(
            "/liff/api/footprint", json={"id_token": standin.issue_id_token(user, channel_id=channel_id)}
        )
        assert answer.status_code == 200, answer.text
    stranger = client.post(
        "/liff/api/footprint", json={"id_token": standin.issue_id_token(user, channel_id="1999999999")}
    )
    assert stranger.status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": POLICE_LOGIN},  # another of our channels
        {"aud": ENTERPRISE_LOGIN + "0"},  # almost ours
        {"aud": int(ENTERPRISE_LOGIN)},  # ours, but not as LINE spells it
        {"iss": "https://access.line.me.evil.test"},
        {"exp": 1},
        {"sub": "X" + "a" * 32},
        {"sub": ""},
    ],
    ids=["other_channel", "aud_suffix", "aud_number", "iss_suffix", "expired", "sub_not_a_user", "sub_empty"],
)
def test_the_hub_checks_lines_answer_itself(
    client: TestClient, standin: StandIn, sms: SmsOutbox, hub: Hub, claims: dict[str, object]
) -> None:
    """LINE never answers a verify with another audience, issuer or a past expiry; if the answer
    did (a wrong HUB_LINE_LOGIN_API_URL, a proxy), the hub's own check of it still refuses."""
    hub.register_enterprise(mobile=ADMIN)
    user = _bind(LineChat(client, standin, "enterprise"), sms, ADMIN)

    def employees() -> int:
        token = standin.issue_id_token(user, channel_id=ENTERPRISE_LOGIN)
        return client.post("/liff/api/employees/list", json={"id_token": token}).status_code

    assert employees() == 200
    standin.inject_verify_answer(**claims)
    assert employees() == 401
    assert employees() == 200  # one answer changed, one refusal
