"""`checkpass hub line ...`:

checkpass hub line setup-menus [--channel enterprise|police]
    create the rich menus of each configured channel (images drawn here), guest menu as default
checkpass hub line chat --channel enterprise --user U... [--say TEXT | --tap DATA | --follow]
    talk to a running hub as that LINE user: sends signed webhook events and prints the replies the
    LINE stand-in recorded (HUB_LINE_API_URL must point at the stand-in; without --say/--tap/--follow
    it reads lines from standard input, `/tap DATA` for a postback)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
from typing import Any

import httpx

from hub.core.config import Settings, get_settings
from hub.core.vocabulary import ChannelName
from hub.line.channels import configured_channels
from hub.line.words import t


def register(commands: Any) -> None:
    line = commands.add_parser("line", help="the LINE official accounts (docs/line.md)")
    sub = line.add_subparsers(dest="line_command", metavar="LINE_COMMAND")
    sub.required = True
    setup = sub.add_parser("setup-menus", help="create the rich menus per role (replaces older ones)")
    setup.add_argument("--channel", choices=[c.value for c in ChannelName], help="default: every configured")
    setup.set_defaults(func=cmd_setup_menus)
    chat = sub.add_parser("chat", help="chat with the hub as a LINE user through the LINE stand-in")
    chat.add_argument("--channel", choices=[c.value for c in ChannelName], required=True)
    chat.add_argument("--user", required=True, help="LINE user ID, U + 32 hex digits")
    chat.add_argument("--hub", help="hub base URL (default HUB_BASE_URL)")
    what = chat.add_mutually_exclusive_group()
    what.add_argument("--say", help="send this text message")
    what.add_argument("--tap", help="send a postback with this data (e.g. a=register)")
    what.add_argument("--follow", action="store_true", help="send a follow event (adding the account)")
    chat.set_defaults(func=cmd_chat)


def cmd_setup_menus(args: argparse.Namespace, settings: Settings | None = None) -> int:
    from hub.line.delivery import Sender
    from hub.line.menus import setup_menus

    settings = settings or get_settings()
    channels = configured_channels(settings)
    wanted = [ChannelName(args.channel)] if args.channel else list(channels)
    missing = [c.value for c in wanted if c not in channels]
    if missing or not wanted:
        print(f"checkpass: LINE channel not configured: {', '.join(missing) or 'none'}", file=sys.stderr)
        return 2

    async def run() -> dict[ChannelName, dict[str, str]]:
        sender = Sender(channels, settings.line_api_url)
        try:
            return {channel: await setup_menus(sender, channel) for channel in wanted}
        finally:
            await sender.aclose()

    from linebot.v3.messaging import ApiException

    try:
        made = asyncio.run(run())
    except ApiException as exc:
        print(f"checkpass: LINE refused ({exc.status}): {exc.body}", file=sys.stderr)
        return 1
    for channel, menus in made.items():
        for key, menu_id in menus.items():
            print(f"{channel.value:10} {key:17} {menu_id}")
    return 0


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _event(kind: str, user: str, reply_token: str, *, text: str = "", data: str = "") -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
    }
    if kind == "follow":
        event["follow"] = {"isUnblocked": False}
    elif kind == "message":
        event["message"] = {
            "type": "text",
            "id": str(secrets.randbelow(10**17)),
            "text": text,
            "quoteToken": "q",
        }
    else:
        event["postback"] = {"data": data}
    return event


def render(message: dict[str, Any]) -> str:
    """A message as a person would read it in a terminal."""
    kind = message.get("type")
    lines: list[str] = []
    if kind == "text":
        lines.append(message["text"])
    elif kind == "flex":
        lines.append(f"[{message.get('altText', 'Flex')}]")
        lines.extend(_flex_texts(message.get("contents", {})))
    elif kind == "image":
        lines.append(t("line.cli.image", url=message.get("originalContentUrl", "")))
    elif kind == "template":
        lines.append(f"[{message.get('altText', '')}]")
    else:
        lines.append(f"[{kind}]")
    for item in message.get("quickReply", {}).get("items", []):
        action = item.get("action", {})
        lines.append(f"  ( {action.get('label', '')} )  /tap {action.get('data', '')}")
    return "\n".join(lines)


def _flex_texts(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "text" and node.get("text"):
            out.append("  " + node["text"])
        if node.get("type") == "button":
            action = node.get("action", {})
            out.append(
                f"  < {action.get('label', '')} > {action.get('uri') or '/tap ' + action.get('data', '')}"
            )
        for value in node.values():
            if isinstance(value, dict | list):
                out.extend(_flex_texts(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_flex_texts(item))
    return out


def cmd_chat(args: argparse.Namespace, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    channel = ChannelName(args.channel)
    channels = configured_channels(settings)
    if channel not in channels or not settings.line_api_url:
        print(
            "checkpass: the channel and HUB_LINE_API_URL (the stand-in) must be configured", file=sys.stderr
        )
        return 2
    if not (len(args.user) == 33 and args.user.startswith("U")):
        print("checkpass: --user is U followed by 32 hex digits", file=sys.stderr)
        return 2
    hub_url = (args.hub or settings.base_url).rstrip("/")
    standin = settings.line_api_url.rstrip("/")
    secret = channels[channel].secret

    def send(kind: str, **fields: str) -> int:
        with httpx.Client(timeout=30) as http:
            since = http.get(f"{standin}/_standin/calls", params={"channel": channel.value}).json()["next"]
            token = http.post(f"{standin}/_standin/reply-tokens", json={"channel": channel.value}).json()
            body = json.dumps(
                {
                    "destination": "U" + "0" * 32,
                    "events": [_event(kind, args.user, token["replyToken"], **fields)],
                },
                ensure_ascii=False,
            ).encode()
            response = http.post(
                f"{hub_url}/line/{channel.value}/webhook",
                content=body,
                headers={"Content-Type": "application/json", "X-Line-Signature": _sign(secret, body)},
            )
            if response.status_code != 200:
                print(f"checkpass: the hub answered {response.status_code}: {response.text}", file=sys.stderr)
                return 1
            # The hub answers the webhook once the event is stored; the reply follows from its inbox.
            deadline = time.monotonic() + 10
            while True:
                calls = http.get(
                    f"{standin}/_standin/calls", params={"channel": channel.value, "since": since}
                ).json()["calls"]
                answered = any(c["operation_id"] in ("replyMessage", "pushMessage") for c in calls)
                if answered or kind == "unfollow" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        for call in calls:
            if call["operation_id"] in ("replyMessage", "pushMessage") and call["status"] // 100 == 2:
                for message in call["body"]["messages"]:
                    print(render(message))
                    print()
        return 0

    if args.follow:
        return send("follow")
    if args.say is not None:
        return send("message", text=args.say)
    if args.tap is not None:
        return send("postback", data=args.tap)
    print(t("line.cli.prompt", tap="/tap DATA", follow="/follow", end="Ctrl-D"), file=sys.stderr)
    for line in sys.stdin:
        words = line.strip()
        if not words:
            continue
        if words == "/follow":
            send("follow")
        elif words.startswith("/tap "):
            send("postback", data=words[5:].strip())
        else:
            send("message", text=words)
    return 0
