"""Webhook events as the LINE platform delivers them (webhook.yml's shapes), and their signature: one
builder for the stand-in's phone, the hub's tests (tests/hub/line/linekit.py) and the field rehearsal
(deploy/rehearsal/field.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any


def event_id() -> str:
    """A webhookEventId in LINE's shape (a ULID-like 26 characters)."""
    return "01" + secrets.token_hex(12).upper()


def sign(secret: str, body: bytes) -> str:
    """`X-Line-Signature`: base64 of HMAC-SHA256 of the body with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_event(
    kind: str,
    user_id: str,
    *,
    reply_token: str | None = None,
    text: str | None = None,
    data: str | None = None,
    redelivery: bool = False,
    webhook_event_id: str | None = None,
) -> dict[str, Any]:
    """One event of a LINE user: follow, unfollow, a text message or a postback. An unfollow carries no
    reply token (LINE sends none)."""
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": webhook_event_id or event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply_token is not None and kind != "unfollow":
        event["replyToken"] = reply_token
    if kind == "follow":
        event["follow"] = {"isUnblocked": False}
    elif kind == "message":
        event["message"] = {
            "type": "text",
            "id": str(secrets.randbelow(10**17)),
            "text": text or "",
            "quoteToken": secrets.token_hex(8),
        }
    elif kind == "postback":
        event["postback"] = {"data": data or ""}
    return event
