"""The LINE inbox on two real hub processes on one PostgreSQL, one of them killed with SIGKILL while
LINE users keep tapping: every event the hub acknowledged (200) is answered exactly once, and each
user's answers come in the order the user sent the events (hub/jobs/line_inbox.py, docs/line.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import httpx

from checkpass_testkit.line_standin import StandIn
from hub.jobs.line_inbox import LEASE_SECONDS
from hub.line.delivery import retry_key
from hub.models.line import ChannelName
from tests.hub.workers.hubprocs import HubProcess, hub_env, pg_schema, postgres_url_or_skip

SECRET = "workers-line-channel-secret-0123"
TOKEN = "workers-line-token"
FAQ_KEYS = ("venue_code", "employee_pass", "how_to_use", "many_passes")


def _post(hub: HubProcess, user: str, reply_token: str, index: int) -> tuple[str, bool]:
    """One FAQ tap as LINE posts it; (webhookEventId, acknowledged with 200)."""
    event_id = "01" + secrets.token_hex(12).upper()
    event = {
        "type": "postback",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "postback": {"data": f"a=faq&q={FAQ_KEYS[index % len(FAQ_KEYS)]}"},
    }
    body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"Content-Type": "application/json", "X-Line-Signature": signature}
    try:
        response = httpx.post(f"{hub.url}/line/enterprise/webhook", content=body, headers=headers, timeout=30)
    except httpx.HTTPError:
        return event_id, False
    return event_id, response.status_code == 200


def test_a_hub_killed_mid_traffic_loses_and_doubles_no_acknowledged_event(tmp_path: Path) -> None:
    server = postgres_url_or_skip()
    standin = StandIn({"enterprise": TOKEN})
    standin.start()
    try:
        with pg_schema(server) as url:
            env = hub_env(
                url,
                tmp_path,
                HUB_LINE_ENTERPRISE_CHANNEL_SECRET=SECRET,
                HUB_LINE_ENTERPRISE_CHANNEL_TOKEN=TOKEN,
                HUB_LINE_API_URL=standin.url,
            )
            a = HubProcess(env, tmp_path / "hub-a.log").start()
            b = HubProcess(env, tmp_path / "hub-b.log").start()
            a.wait_ready()
            b.wait_ready()
            try:
                users = ["U" + secrets.token_hex(16) for _ in range(5)]
                acked: dict[str, list[tuple[str, str]]] = {u: [] for u in users}  # (reply token, key)
                for index in range(60):
                    user = users[index % len(users)]
                    if index == 30:
                        a.kill()  # mid-traffic: rows it stored, rows it had taken, replies in flight
                    hub = b if index >= 30 or index % 2 else a
                    token = standin.issue_reply_token("enterprise")
                    event_id, ok = _post(hub, user, token, index)
                    if ok:
                        acked[user].append((token, retry_key(ChannelName.ENTERPRISE, event_id)))
                a.start()
                a.wait_ready()

                names = {name: user for user, pairs in acked.items() for pair in pairs for name in pair}
                deadline = time.monotonic() + LEASE_SECONDS + 90  # a dead worker's rows wait for its lease
                while time.monotonic() < deadline:
                    answered = {x.reply_token or x.retry_key for x in standin.answers("enterprise")}
                    if all(t in answered or k in answered for pairs in acked.values() for t, k in pairs):
                        break
                    time.sleep(0.5)
                time.sleep(2)  # a doubled answer would come after the first
            finally:
                a.stop()
                b.stop()
    finally:
        standin.stop()

    assert sum(len(pairs) for pairs in acked.values()) >= 55  # only what went to A as it died is missing
    seen: dict[str, list[str]] = {u: [] for u in users}
    for answer in standin.answers("enterprise"):
        name = answer.reply_token or answer.retry_key
        if name in names:
            pair = next(p for p in acked[names[name]] if name in p)
            seen[names[name]].append(pair[0])
    for user in users:
        assert seen[user] == [token for token, _ in acked[user]], user  # each once, in order
