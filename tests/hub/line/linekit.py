"""Driving the hub's LINE webhooks as LINE does: events built in LINE's shape (checked against the
vendored `webhook.yml`), signed with the channel secret, posted to the hub; what the hub sent back is
read from the stand-in's record of reply and push calls (each checked against `messaging-api.yml`)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from checkpass_testkit.line_standin import StandIn
from checkpass_testkit.line_standin.events import sign, webhook_event
from checkpass_testkit.line_standin.schema import check
from hub.core.config import Settings

SECRETS = {"enterprise": "enterprise-channel-secret-0123456789", "police": "police-channel-secret-0123456789"}
TOKENS = {"enterprise": "enterprise-access-token", "police": "police-access-token"}
LOGIN_CHANNEL_ID = "2000000001"
DESTINATION = "U" + "d" * 32


def line_settings(settings: Settings, standin: StandIn, **login_channels: str | None) -> Settings:
    """`settings` with both official accounts on, against `standin`; `login_channels` may give each LIFF
    app a LINE Login channel of its own (`line_enterprise_login_channel_id`, `line_police_...`)."""
    return settings.model_copy(
        update={
            "line_enterprise_channel_secret": SecretStr(SECRETS["enterprise"]),
            "line_enterprise_channel_token": SecretStr(TOKENS["enterprise"]),
            "line_police_channel_secret": SecretStr(SECRETS["police"]),
            "line_police_channel_token": SecretStr(TOKENS["police"]),
            "line_api_url": standin.url,
            "line_login_channel_id": LOGIN_CHANNEL_ID,
            "line_login_api_url": standin.url,
            "liff_id_enterprise": "2000000001-enterpri",
            "liff_id_police": "2000000001-policeAB",
            **login_channels,
        }
    )


def line_user_id() -> str:
    return "U" + secrets.token_hex(16)


def drained(client: TestClient) -> None:
    """Wait until the hub has handled every stored webhook event and sent its answers: webhooks are
    answered 200 when stored, and the inbox worker on the app's event loop does the rest."""
    client.portal.call(client.app.state.line.drain)  # type: ignore[union-attr,attr-defined]


make_event = webhook_event  # one builder of LINE events (checkpass_testkit.line_standin.events)


def body_of(*events: dict[str, Any]) -> bytes:
    body = {"destination": DESTINATION, "events": list(events)}
    problems = check("webhook", "CallbackRequest", body)
    assert problems == [], problems  # a test event LINE itself would never send is a broken test
    return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class LineChat:
    """One LINE user talking to one official account of the hub under test."""

    client: TestClient
    standin: StandIn
    channel: str
    user_id: str = field(default_factory=line_user_id)
    last_event: dict[str, Any] | None = None

    def post(self, body: bytes, signature: str | None = "sign") -> Any:
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Line-Signature"] = sign(SECRETS[self.channel], body)
        elif signature is not None:
            headers["X-Line-Signature"] = signature
        return self.client.post(f"/line/{self.channel}/webhook", content=body, headers=headers)

    def send(self, kind: str, **fields: Any) -> list[dict[str, Any]]:
        """Post one event; the messages the hub got accepted by the stand-in in answer."""
        before = len(self.standin.calls(self.channel))
        if kind != "unfollow":
            fields.setdefault("reply_token", self.standin.issue_reply_token(self.channel))
        self.last_event = make_event(kind, self.user_id, **fields)
        response = self.post(body_of(self.last_event))
        assert response.status_code == 200, response.text
        drained(self.client)
        return self.answers(before)

    def answers(self, since: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for call in self.standin.calls(self.channel)[since:]:
            if call.operation_id in ("replyMessage", "pushMessage"):
                # Every message the hub sends must be valid; a valid one may still be refused for a
                # spent reply token (400), a retry key already used (409) or an injected fault.
                schema = (
                    "ReplyMessageRequest" if call.operation_id == "replyMessage" else "PushMessageRequest"
                )
                assert check("messaging-api", schema, call.body) == [], (call.status, call.body)
                if call.status // 100 == 2:
                    out.extend(call.body["messages"])
        return out

    def follow(self) -> list[dict[str, Any]]:
        return self.send("follow")

    def say(self, words: str) -> list[dict[str, Any]]:
        return self.send("message", text=words)

    def tap(self, data: str) -> list[dict[str, Any]]:
        return self.send("postback", data=data)

    def register(self, mobile: str, code_of: Any, name: str | None = None) -> list[dict[str, Any]]:
        """註冊 登入 as a person does it: in the police channel the name first (as the checkpoint app's
        officer login asks it), then the mobile typed locally (09…), then the SMS code `code_of(mobile)`
        reads from the outbox. The answers to the code."""
        self.tap("a=register")
        if self.channel == "police":
            assert name is not None, "the police channel asks the name first"
            self.say(name)
        self.say("0" + mobile[4:])
        return self.say(code_of(mobile))

    def texts(self, messages: list[dict[str, Any]]) -> list[str]:
        return [msg.get("text", msg.get("altText", "")) for msg in messages]
