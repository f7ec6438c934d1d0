"""The LINE stand-in: the spec's discriminators are followed, LINE-style errors, state, faults, ID tokens.

The client side is the real line-bot-sdk v3 (async) and plain httpx, over real HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    ReplyMessageRequest,
    TextMessage,
)
from PIL import Image

from checkpass_testkit.line_standin import StandIn
from checkpass_testkit.line_standin.schema import check

TOKENS = {"enterprise": "ent-token", "police": "pol-token"}


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(TOKENS, login_channel_id="2000000001", reply_token_seconds=5)
    server.start()
    yield server
    server.stop()


def _post(standin: StandIn, path: str, body: Any, token: str = "ent-token") -> httpx.Response:
    return httpx.post(standin.url + path, json=body, headers={"Authorization": f"Bearer {token}"})


def _menu(width: int = 2500, height: int = 843) -> dict[str, Any]:
    return {
        "size": {"width": width, "height": height},
        "selected": True,
        "name": "employee",
        "chatBarText": "選單",
        "areas": [
            {
                "bounds": {"x": 0, "y": 0, "width": width, "height": height},
                "action": {"type": "postback", "data": "a=show", "displayText": "出示通行碼"},
            }
        ],
    }


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


# --- the validator itself ---


def test_text_message_without_text_is_refused_through_the_discriminator() -> None:
    problems = check(
        "messaging-api", "ReplyMessageRequest", {"replyToken": "r", "messages": [{"type": "text"}]}
    )
    assert [(p.property, p.message) for p in problems] == [("messages[0]", "May not be empty (text)")]
    assert (
        check(
            "messaging-api",
            "ReplyMessageRequest",
            {"replyToken": "r", "messages": [{"type": "text", "text": "好"}]},
        )
        == []
    )


def test_nested_discriminators_reach_flex_components_and_actions() -> None:
    flex = {
        "type": "flex",
        "altText": "通行碼",
        "contents": {"type": "bubble", "body": {"type": "box", "contents": []}},
    }
    problems = check("messaging-api", "PushMessageRequest", {"to": "U1", "messages": [flex]})
    assert ("messages[0].contents.body", "May not be empty (layout)") in [
        (p.property, p.message) for p in problems
    ]

    unknown_action = {
        "type": "text",
        "text": "選一個",
        "quickReply": {"items": [{"type": "action", "action": {"type": "teleport", "label": "x"}}]},
    }
    problems = check("messaging-api", "PushMessageRequest", {"to": "U1", "messages": [unknown_action]})
    assert [p.property for p in problems] == ["messages[0].quickReply.items[0].action.type"]

    too_long = {
        "type": "text",
        "text": "x",
        "quickReply": {"items": [{"type": "action", "action": {"type": "postback", "data": "d" * 301}}]},
    }
    problems = check("messaging-api", "PushMessageRequest", {"to": "U1", "messages": [too_long]})
    assert [p.property for p in problems] == ["messages[0].quickReply.items[0].action.data"]


def test_webhook_events_are_checked_by_their_type() -> None:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": 1700000000000,
        "source": {"type": "user", "userId": "U" + "0" * 32},
        "webhookEventId": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": "r",
        "message": {"type": "text", "id": "1", "quoteToken": "q"},
    }
    body = {"destination": "U" + "1" * 32, "events": [event]}
    assert [p.property for p in check("webhook", "CallbackRequest", body)] == ["events[0].message"]
    event["message"]["text"] = "你好"
    assert check("webhook", "CallbackRequest", body) == []


# --- the server through the real SDK ---


def test_reply_through_the_sdk_once_and_only_once(standin: StandIn) -> None:
    token = standin.issue_reply_token("enterprise")

    async def reply() -> None:
        async with AsyncApiClient(Configuration(host=standin.url, access_token="ent-token")) as client:
            api = AsyncMessagingApi(client)
            await api.reply_message(
                ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="您好")])
            )
            with pytest.raises(ApiException) as second:
                await api.reply_message(
                    ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="again")])
                )
            assert second.value.status == 400
            assert "Invalid reply token" in second.value.body

    asyncio.run(reply())
    assert standin.sent_messages("enterprise") == [{"type": "text", "text": "您好"}]
    assert standin.sent_messages("police") == []


def test_reply_token_of_the_other_channel_or_expired_is_refused(standin: StandIn) -> None:
    police_token = standin.issue_reply_token("police")
    r = _post(
        standin,
        "/v2/bot/message/reply",
        {"replyToken": police_token, "messages": [{"type": "text", "text": "x"}]},
    )
    assert r.status_code == 400
    standin.reply_token_seconds = 0
    late = standin.issue_reply_token("enterprise")
    r = _post(
        standin, "/v2/bot/message/reply", {"replyToken": late, "messages": [{"type": "text", "text": "x"}]}
    )
    assert r.status_code == 400


def test_invalid_body_gets_a_line_style_400_and_is_not_delivered(standin: StandIn) -> None:
    token = standin.issue_reply_token("enterprise")
    r = _post(standin, "/v2/bot/message/reply", {"replyToken": token, "messages": [{"type": "text"}]})
    assert r.status_code == 400
    assert r.json() == {
        "message": "The request body has 1 error(s)",
        "details": [{"message": "May not be empty (text)", "property": "messages[0]"}],
    }
    assert standin.sent_messages("enterprise") == []
    # the token was not spent by the refused call
    ok = _post(
        standin, "/v2/bot/message/reply", {"replyToken": token, "messages": [{"type": "text", "text": "y"}]}
    )
    assert ok.status_code == 200


def test_unknown_token_path_and_bad_json(standin: StandIn) -> None:
    assert (
        _post(standin, "/v2/bot/message/push", {"to": "U1", "messages": []}, token="nope").status_code == 401
    )
    assert _post(standin, "/v2/bot/nothing/here", {}).status_code == 404
    r = httpx.post(
        standin.url + "/v2/bot/message/push", content=b"{", headers={"Authorization": "Bearer ent-token"}
    )
    assert r.status_code == 400


def test_injected_faults_then_success_and_retry_key_prevents_doubles(standin: StandIn) -> None:
    standin.inject("/v2/bot/message/push", 429, count=1)
    standin.inject("/v2/bot/message/push", 500, count=1)
    body = {"to": "U1", "messages": [{"type": "text", "text": "PDF 已產生"}]}
    headers = {
        "Authorization": "Bearer ent-token",
        "X-Line-Retry-Key": "123e4567-e89b-12d3-a456-426614174000",
    }
    statuses = [
        httpx.post(standin.url + "/v2/bot/message/push", json=body, headers=headers).status_code
        for _ in range(4)
    ]
    assert statuses == [429, 500, 200, 409]
    assert standin.sent_messages("enterprise", "U1") == [{"type": "text", "text": "PDF 已產生"}]


def test_an_outage_answers_500_then_times_out_then_ends(standin: StandIn) -> None:
    body = {"to": "U1", "messages": [{"type": "text", "text": "稍後再試"}]}
    headers = {"Authorization": "Bearer ent-token"}
    url = standin.url + "/v2/bot/message/push"
    standin.outage(30)
    assert httpx.post(url, json=body, headers=headers).status_code == 500
    standin.outage(30, hang=3)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(url, json=body, headers=headers, timeout=0.5)
    standin.outage(0)
    assert httpx.post(url, json=body, headers=headers).status_code == 200
    # only the push after the outage was delivered
    assert standin.sent_messages("enterprise", "U1") == [{"type": "text", "text": "稍後再試"}]


def test_rich_menu_state_through_the_sdk(standin: StandIn) -> None:
    from linebot.v3.messaging import RichMenuRequest

    async def flow() -> tuple[str, str]:
        async with AsyncApiClient(Configuration(host=standin.url, access_token="pol-token")) as client:
            api, blob = AsyncMessagingApi(client), AsyncMessagingApiBlob(client)
            created = await api.create_rich_menu(RichMenuRequest.from_dict(_menu()))
            menu_id = created.rich_menu_id
            with pytest.raises(ApiException) as early:  # no image yet
                await api.link_rich_menu_id_to_user("U" + "a" * 32, menu_id)
            assert early.value.status == 400
            with pytest.raises(ApiException) as wrong:
                await blob.set_rich_menu_image(
                    menu_id, _png(100, 100), _headers={"Content-Type": "image/png"}
                )
            assert wrong.value.status == 400
            await blob.set_rich_menu_image(menu_id, _png(2500, 843), _headers={"Content-Type": "image/png"})
            await api.link_rich_menu_id_to_user("U" + "a" * 32, menu_id)
            await api.set_default_rich_menu(menu_id)
            listed = await api.get_rich_menu_list()
            assert [m.rich_menu_id for m in listed.richmenus] == [menu_id]
            linked = await api.get_rich_menu_id_of_user("U" + "a" * 32)
            return menu_id, linked.rich_menu_id

    menu_id, linked = asyncio.run(flow())
    assert linked == menu_id
    assert standin.linked_menu("police", "U" + "a" * 32)["name"] == "employee"
    assert standin.linked_menu("enterprise", "U" + "a" * 32) is None
    assert (
        _post(
            standin,
            "/v2/bot/richmenu",
            dict(_menu(), areas=[{"bounds": {"x": 0}, "action": {"type": "teleport"}}]),
            "pol-token",
        ).status_code
        == 400
    )


def test_id_token_verify(standin: StandIn) -> None:
    good = standin.issue_id_token("U" + "b" * 32, "王小明")
    expired = standin.issue_id_token("U" + "b" * 32, expired=True)
    url = standin.url + "/oauth2/v2.1/verify"
    ok = httpx.post(url, data={"id_token": good, "client_id": "2000000001"})
    assert ok.status_code == 200
    assert ok.json()["sub"] == "U" + "b" * 32 and ok.json()["iss"] == "https://access.line.me"
    late = httpx.post(url, data={"id_token": expired, "client_id": "2000000001"})
    assert late.status_code == 400 and late.json() == {
        "error": "invalid_request",
        "error_description": "IdToken expired.",
    }
    assert httpx.post(url, data={"id_token": good, "client_id": "999"}).status_code == 400
    assert httpx.post(url, data={"id_token": "eyJforged", "client_id": "2000000001"}).status_code == 400


def test_an_id_token_verifies_only_for_the_channel_it_was_issued_for(standin: StandIn) -> None:
    url = standin.url + "/oauth2/v2.1/verify"
    police = standin.issue_id_token("U" + "c" * 32, channel_id="2000000022")
    ok = httpx.post(url, data={"id_token": police, "client_id": "2000000022"})
    assert ok.status_code == 200 and ok.json()["aud"] == "2000000022"
    for other in ("2000000001", "200000002", "20000000222"):  # the default channel, a prefix, a suffix
        refused = httpx.post(url, data={"id_token": police, "client_id": other})
        assert refused.status_code == 400 and refused.json() == {
            "error": "invalid_request",
            "error_description": "Invalid IdToken Audience.",
        }
    # The control API issues for a channel too.
    token = httpx.post(
        standin.url + "/_standin/id-tokens", json={"userId": "U" + "c" * 32, "channelId": "2000000022"}
    ).json()["idToken"]
    assert httpx.post(url, data={"id_token": token, "client_id": "2000000001"}).status_code == 400
    assert httpx.post(url, data={"id_token": token, "client_id": "2000000022"}).json()["aud"] == "2000000022"


def test_control_api_for_another_process(standin: StandIn) -> None:
    token = httpx.post(standin.url + "/_standin/reply-tokens", json={"channel": "police"}).json()[
        "replyToken"
    ]
    assert (
        _post(
            standin,
            "/v2/bot/message/reply",
            {"replyToken": token, "messages": [{"type": "text", "text": "z"}]},
            "pol-token",
        ).status_code
        == 200
    )
    calls = httpx.get(standin.url + "/_standin/calls", params={"channel": "police"}).json()
    assert [c["operation_id"] for c in calls["calls"]] == ["replyMessage"]
    assert calls["calls"][0]["body"]["messages"] == [{"type": "text", "text": "z"}]


# --- what the LINE phone (phone.py) stands on ---


def test_access_tokens_are_verified_as_line_login_does(standin: StandIn):
    """The LIFF SDK checks the access token the LINE app handed the page: LINE Login answers its channel."""
    token = standin.issue_access_token("U" + "1" * 32, "2000000001")
    answer = httpx.get(standin.url + "/oauth2/v2.1/verify", params={"access_token": token})
    assert answer.status_code == 200
    assert answer.json()["client_id"] == "2000000001" and 0 < answer.json()["expires_in"] <= 3600
    unknown = httpx.get(standin.url + "/oauth2/v2.1/verify", params={"access_token": "eyJnot-issued"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request"


def test_a_conversation_is_one_users_replies_and_pushes(standin: StandIn):
    alice, bob = "U" + "a" * 32, "U" + "b" * 32
    to_alice = standin.issue_reply_token("enterprise", alice)
    standin.issue_reply_token("enterprise", bob)
    reply = {"replyToken": to_alice, "messages": [{"type": "text", "text": "給 alice"}]}
    assert _post(standin, "/v2/bot/message/reply", reply).status_code == 200
    push = {"to": bob, "messages": [{"type": "text", "text": "給 bob"}]}
    assert _post(standin, "/v2/bot/message/push", push).status_code == 200
    assert [m["text"] for _at, m in standin.conversation("enterprise", alice)] == ["給 alice"]
    assert [m["text"] for _at, m in standin.conversation("enterprise", bob)] == ["給 bob"]
    assert standin.conversation("police", alice) == []


@pytest.fixture
def hub_double() -> Iterator[dict[str, Any]]:
    """An HTTP server in place of the hub: records webhooks, serves a page with the hub's frame headers."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: dict[str, Any] = {"webhooks": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen["webhooks"].append((self.path, body, self.headers.get("X-Line-Signature")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            page = b"<!doctype html><title>page</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header(
                "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
            )
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield seen
    server.shutdown()


def test_the_phone_sends_signed_webhooks_and_shows_the_answer(standin: StandIn, hub_double: dict[str, Any]):
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError

    from checkpass_testkit.line_standin.phone import Account, Person, Phone

    secret = "phone-test-secret"
    phone = Phone(
        standin,
        accounts=[Account("enterprise", "企業帳號", hub_double["url"] + "/line/enterprise/webhook", secret)],
        people=[Person("guest", "訪客", "未綁定", None)],
        liff_endpoints={"2000000001-enterpri": hub_double["url"]},
    )
    page = standin.attach_phone(phone)
    assert httpx.get(page).text.startswith("<!doctype html>")
    user = "U" + "c" * 32
    sent = httpx.post(
        f"{page}/api/send", json={"channel": "enterprise", "user": user, "kind": "postback", "data": "a=faq"}
    )
    assert sent.status_code == 200, sent.text
    ((path, body, signature),) = hub_double["webhooks"]
    assert path == "/line/enterprise/webhook"
    (event,) = WebhookParser(secret).parse(body.decode(), signature)  # refuses a wrong signature
    assert event.source.user_id == user and event.postback.data == "a=faq"
    assert check("webhook", "CallbackRequest", json.loads(body)) == []
    with pytest.raises(InvalidSignatureError):
        WebhookParser("another-secret").parse(body.decode(), signature)

    # The hub answers with the event's reply token: the user's chat shows it, another user's does not.
    reply = {"replyToken": event.reply_token, "messages": [{"type": "text", "text": "答覆"}]}
    assert _post(standin, "/v2/bot/message/reply", reply).status_code == 200
    chat = httpx.get(f"{page}/api/chat", params={"channel": "enterprise", "user": user}).json()
    assert [(m["from"], m["message"]["text"]) for m in chat["messages"]] == [("account", "答覆")]
    other = httpx.get(f"{page}/api/chat", params={"channel": "enterprise", "user": "U" + "d" * 32}).json()
    assert other["messages"] == []


def test_the_webview_opens_liff_urls_with_the_users_tokens(standin: StandIn, hub_double: dict[str, Any]):
    from urllib.parse import parse_qs, urlsplit

    from checkpass_testkit.line_standin.phone import Account, Phone

    phone = Phone(
        standin,
        accounts=[Account("enterprise", "企業帳號", hub_double["url"] + "/w", "s")],
        people=[],
        liff_endpoints={"2000000001-enterpri": hub_double["url"]},
    )
    page = standin.attach_phone(phone)
    user = "U" + "e" * 32
    opened = httpx.post(
        f"{page}/api/liff",
        json={
            "channel": "enterprise",
            "user": user,
            "url": "https://liff.line.me/2000000001-enterpri/liff/x",
        },
    ).json()["url"]
    parts = urlsplit(opened)
    assert parse_qs(parts.query) == {"to": ["/liff/x"]}
    tokens = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    assert set(tokens) == {"access_token", "context_token", "feature_token", "id_token"}
    verified = httpx.post(
        standin.url + "/oauth2/v2.1/verify", data={"id_token": tokens["id_token"], "client_id": "2000000001"}
    )
    assert verified.status_code == 200 and verified.json()["sub"] == user
    webview = f"{parts.scheme}://{parts.netloc}"
    # The SDK's call to api.line.me, as the webview's service worker forwards it.
    checked = httpx.get(
        webview + "/_webview/line/api.line.me/oauth2/v2.1/verify",
        params={"access_token": tokens["access_token"]},
    )
    assert checked.json()["client_id"] == "2000000001"
    assert httpx.get(webview + "/_webview/sw.js").headers["Service-Worker-Allowed"] == "/"
    # The endpoint's page passes through with its policy, less what forbids showing it in the phone.
    passed = httpx.get(webview + "/liff/x")
    assert passed.status_code == 200 and passed.text.startswith("<!doctype html>")
    assert "x-frame-options" not in passed.headers
    assert passed.headers["content-security-policy"] == "default-src 'none'; base-uri 'none'"
    not_liff = httpx.post(
        f"{page}/api/liff", json={"channel": "enterprise", "user": user, "url": "https://example.com/"}
    )
    assert not_liff.status_code == 400


def test_the_phone_says_when_the_hub_cannot_be_reached(standin: StandIn):
    from checkpass_testkit.line_standin.phone import Account, Phone

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    webhook = f"http://127.0.0.1:{closed}/line/enterprise/webhook"
    phone = Phone(
        standin, accounts=[Account("enterprise", "企業", webhook, "s")], people=[], liff_endpoints={}
    )
    page = standin.attach_phone(phone)
    sent = httpx.post(
        f"{page}/api/send",
        json={"channel": "enterprise", "user": "U" + "f" * 32, "kind": "text", "text": "在嗎"},
    )
    assert sent.status_code == 502 and sent.json() == {"webhook": 0}
