"""The follow greeting by the person's LINE display name (LINE's profile API), and the greeting without it
when LINE will not say (not a friend, LINE failing); the stand-in's profile API as strict as LINE's."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from checkpass_testkit.line_standin import StandIn
from hub.i18n import catalogue
from hub.line.messages import GREETING
from tests.hub.line.linekit import TOKENS, LineChat

BODY = GREETING.partition("\n\n")[2]


def test_the_greeting_says_the_display_name(client: TestClient, standin: StandIn) -> None:
    chat = LineChat(client, standin, "enterprise")
    standin.set_profile("enterprise", chat.user_id, "  小明\n同學  ")
    [greeting] = chat.follow()
    assert greeting["text"] == "小明 同學，您好！\n\n" + BODY  # one line, trimmed
    assert greeting["quickReply"]["items"]  # the questions still follow it
    asked = standin.calls("enterprise", "getProfile")
    assert [c.path for c in asked] == [f"/v2/bot/profile/{chat.user_id}"]

    long_name = LineChat(client, standin, "police")
    standin.set_profile("police", long_name.user_id, "名" * 40 + "\u202e\u0007")
    assert long_name.follow()[0]["text"].startswith("名" * 20 + "，您好！\n\n")
    # only the follow asks LINE for the name: a tap does not
    before = len(standin.calls("police", "getProfile"))
    long_name.tap("a=help")
    assert len(standin.calls("police", "getProfile")) == before


def test_without_the_name_the_greeting_still_comes(client: TestClient, standin: StandIn) -> None:
    stranger = LineChat(client, standin, "enterprise")  # no profile: LINE answers 404
    assert stranger.follow()[0]["text"] == GREETING
    assert [c.status for c in standin.calls("enterprise", "getProfile")] == [404]

    failing = LineChat(client, standin, "police")
    standin.set_profile("police", failing.user_id, "阿華")
    standin.inject("/v2/bot/profile/", 500, count=5)
    assert failing.follow()[0]["text"] == GREETING  # one try, then the greeting without the name
    assert [c.status for c in standin.calls("police", "getProfile")] == [500]

    blocked = LineChat(client, standin, "police")
    standin.set_profile("police", blocked.user_id, "阿明")
    standin.drop_profile("police", blocked.user_id)
    assert blocked.follow()[0]["text"] == GREETING


def test_the_named_greeting_in_english_too() -> None:
    assert catalogue.text("en", "line.greeting_named", name="Ming") == "Hello, Ming!"


def test_the_standin_profile_api_is_as_strict_as_lines(standin: StandIn) -> None:
    user = "U" + "a" * 32
    standin.set_profile("enterprise", user, "小明", language=None)
    auth = {"Authorization": f"Bearer {TOKENS['enterprise']}"}
    with httpx.Client(base_url=standin.url) as http:
        found = http.get(f"/v2/bot/profile/{user}", headers=auth)
        assert found.status_code == 200 and found.json() == {"userId": user, "displayName": "小明"}
        assert http.get(f"/v2/bot/profile/{user}").status_code == 401  # no channel token
        other = {"Authorization": f"Bearer {TOKENS['police']}"}
        assert (
            http.get(f"/v2/bot/profile/{user}", headers=other).status_code == 404
        )  # not that account's friend
        assert http.get("/v2/bot/profile/U" + "b" * 32, headers=auth).status_code == 404
        bad = http.get("/v2/bot/profile/not-a-user", headers=auth)
        assert bad.status_code == 400 and "userId" in bad.json()["message"]
