"""`checkpass hub line ...`:

checkpass hub line setup-menus [--channel enterprise|police]
    create the rich menus of each configured channel (images drawn here), guest menu as default
checkpass hub line chat --channel enterprise --user U... [--say TEXT | --tap DATA | --follow | --menu |
                        --press N | --sticker PACKAGE:STICKER | --image FILE] [--late SECONDS]
    talk to a running hub as that LINE user: sends signed webhook events and prints what the user gets
    as the LINE stand-in recorded it, pushes that come after the answer included (the 列印通行碼 sheet
    link), and the user's rich menu with what each button sends (HUB_LINE_API_URL must point at the
    stand-in; without an action it reads lines from standard input: /menu, /press N, /tap DATA,
    /sticker, /image FILE, /follow, or words to send)
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
import threading
import time
from pathlib import Path
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
    setup = sub.add_parser("setup-menus", help="create the rich menus per role (keeps unchanged ones)")
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
    what.add_argument(
        "--menu", action="store_true", help="show the user's rich menu and what each button sends"
    )
    what.add_argument("--press", type=int, metavar="N", help="tap button N of the user's rich menu")
    what.add_argument("--sticker", metavar="PACKAGE:STICKER", help="send a sticker (empty: LINE's 446:1988)")
    what.add_argument("--image", metavar="FILE", help="send an image (.png, .jpg, .gif)")
    chat.add_argument("--name", help="the user's LINE display name (the greeting says it; default: none)")
    chat.add_argument(
        "--late", type=float, default=LATE_SECONDS, help="seconds to wait for pushes after the answer"
    )
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


def _event(
    kind: str,
    user: str,
    reply_token: str,
    *,
    text: str = "",
    data: str = "",
    package: str = "",
    sticker: str = "",
    message_id: str = "",
) -> dict[str, Any]:
    """A webhook event in LINE's shape (webhook.yml): follow, a text/sticker/image message, a postback."""
    event: dict[str, Any] = {
        "type": "message" if kind in ("sticker", "image") else kind,
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
            "quoteToken": secrets.token_hex(8),
        }
    elif kind == "sticker":
        event["message"] = {
            "type": "sticker",
            "id": str(secrets.randbelow(10**17)),
            "packageId": package,
            "stickerId": sticker,
            "stickerResourceType": "STATIC",
            "quoteToken": secrets.token_hex(8),
        }
    elif kind == "image":
        event["message"] = {
            "type": "image",
            "id": message_id,
            "contentProvider": {"type": "line"},
            "quoteToken": secrets.token_hex(8),
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


STICKER = ("446", "1988")  # one of LINE's own sticker packages, as a default
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # LINE's limit for an image a user sends
LATE_SECONDS = 5.0  # how long a one-shot command waits for pushes after the answer (the sheet link)
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


def chat_help() -> str:
    """What a person may type in the interactive chat (the catalogue's words, the commands as typed)."""
    prompt = t("line.cli.prompt", tap="/tap DATA", follow="/follow", end="Ctrl-D")
    more = t("line.cli.more", menu="/menu", press="/press N", sticker="/sticker", image="/image FILE")
    return prompt + "\n" + more


def menu_lines(menu: dict[str, Any] | None) -> list[str]:
    """The rich menu a user sees, one numbered line per button, with what tapping it sends."""
    if not menu:
        return [t("line.cli.no_menu")]
    lines = [t("line.cli.menu", name=menu.get("name", ""), bar=menu.get("chatBarText", ""))]
    for number, area in enumerate(menu_areas(menu), start=1):
        action = area.get("action", {})
        kind = action.get("type")
        label = action.get("displayText") or action.get("label") or action.get("text") or ""
        if kind == "postback":
            sends = f"postback {action.get('data', '')}"
            if action.get("displayText"):
                sends += t("line.cli.shown_as", text=action["displayText"])
        elif kind == "message":
            sends = t("line.cli.sends_text", text=action.get("text", ""))
        elif kind == "uri":
            sends = t("line.cli.opens", uri=action.get("uri", ""))
        else:
            sends = str(kind)
        lines.append(f"  [{number}] {label} → {sends}")
    return lines


def menu_areas(menu: dict[str, Any]) -> list[dict[str, Any]]:
    """The areas as a person reads the image: top row first, left to right."""
    return sorted(menu.get("areas", []), key=lambda a: (a["bounds"]["y"], a["bounds"]["x"]))


class Chat:
    """One LINE user talking to one account through the stand-in: what it sends is a signed webhook
    event; what it shows is that user's conversation as the stand-in recorded it (replies to the user's
    events and pushes to the user, including those that come later), and the user's rich menu."""

    def __init__(
        self, http: httpx.Client, standin: str, hub_url: str, channel: ChannelName, user: str, secret: str
    ):
        self.http, self.standin, self.hub_url = http, standin, hub_url
        self.channel, self.user, self.secret = channel, user, secret
        self.seen = self._conversation(0)["next"]  # what was said before this command is not shown again
        menu = self.menu()
        self.menu_id: str | None = menu.get("richMenuId") if menu else None  # shown again when it changes
        self._lock = threading.Lock()

    def _conversation(self, since: int) -> dict[str, Any]:
        path = f"{self.standin}/_standin/conversation/{self.channel.value}/{self.user}"
        answer: dict[str, Any] = self.http.get(path, params={"since": since}).json()
        return answer

    def menu(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.http.get(
            f"{self.standin}/_standin/menu/{self.channel.value}/{self.user}"
        ).json()["menu"]
        return found

    def show_menu(self, *, only_if_changed: bool = False) -> dict[str, Any] | None:
        menu = self.menu()
        menu_id = menu.get("richMenuId") if menu else None
        if not only_if_changed or menu_id != self.menu_id:
            print("\n".join(menu_lines(menu)) + "\n", flush=True)
        self.menu_id = menu_id
        return menu

    def print_new(self) -> list[str]:
        """Print what the user got since last time; how each message came ("reply" or "push")."""
        with self._lock:
            answer = self._conversation(self.seen)
            for message in answer["messages"]:
                print(render(message) + "\n", flush=True)
            self.seen = answer["next"]
            return list(answer["via"])

    def send(self, kind: str, *, late: float = 0.0, **fields: str) -> int:
        token = self.http.post(
            f"{self.standin}/_standin/reply-tokens", json={"channel": self.channel.value, "userId": self.user}
        ).json()
        body = json.dumps(
            {
                "destination": "U" + "0" * 32,
                "events": [_event(kind, self.user, token["replyToken"], **fields)],
            },
            ensure_ascii=False,
        ).encode()
        response = self.http.post(
            f"{self.hub_url}/line/{self.channel.value}/webhook",
            content=body,
            headers={"Content-Type": "application/json", "X-Line-Signature": _sign(self.secret, body)},
        )
        if response.status_code != 200:
            print(f"checkpass: the hub answered {response.status_code}: {response.text}", file=sys.stderr)
            return 1
        # The hub answers the webhook once the event is stored; the answer follows from its inbox, and
        # slow work (a PDF) by push after it: shown as it comes, for `late` seconds after the answer.
        deadline = time.monotonic() + 10
        answered = False
        while kind != "unfollow" and time.monotonic() < deadline:
            came = self.print_new()
            if came:
                now = time.monotonic()
                # The answer opens the window for late pushes; a push after it, once here, closes the
                # window soon. Both can come in one look (a quick PDF): that closes it too.
                later = came
                if not answered:
                    deadline, answered = now + late, True
                    later = came[came.index("reply") + 1 :] if "reply" in came else came[1:]
                if "push" in later:
                    deadline = min(deadline, now + 0.5)
            time.sleep(0.1)
        self.show_menu(only_if_changed=True)
        return 0

    def press(self, number: int, late: float) -> int:
        menu = self.menu()
        areas = menu_areas(menu) if menu else []
        if not 1 <= number <= len(areas):
            print(f"checkpass: the menu has {len(areas)} buttons", file=sys.stderr)
            return 2
        action = areas[number - 1]["action"]
        if action.get("type") == "postback":
            return self.send("postback", late=late, data=action.get("data", ""))
        if action.get("type") == "message":
            return self.send("message", late=late, text=action.get("text", ""))
        print(t("line.cli.opens", uri=action.get("uri", "")))
        return 0

    def sticker(self, package: str, sticker: str, late: float) -> int:
        return self.send("sticker", late=late, package=package, sticker=sticker)

    def image(self, path: Path, late: float) -> int:
        """Send an image as a user does: its content kept by LINE (the stand-in) under the message id."""
        content_type = IMAGE_TYPES.get(path.suffix.lower())
        if content_type is None or not path.is_file():
            print(f"checkpass: {path}: a .png, .jpg or .gif file is needed", file=sys.stderr)
            return 2
        data = path.read_bytes()
        if len(data) > MAX_IMAGE_BYTES:
            print(f"checkpass: {path}: LINE takes images up to 10 MB", file=sys.stderr)
            return 2
        message_id = str(secrets.randbelow(10**17))
        stored = self.http.post(
            f"{self.standin}/_standin/contents",
            json={
                "channel": self.channel.value,
                "messageId": message_id,
                "contentType": content_type,
                "data": base64.b64encode(data).decode(),
            },
        )
        if stored.status_code != 200:
            print(f"checkpass: the stand-in answered {stored.status_code}", file=sys.stderr)
            return 1
        return self.send("image", late=late, message_id=message_id)


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
    late = float(getattr(args, "late", None) or LATE_SECONDS)
    with httpx.Client(timeout=30) as http:
        chat = Chat(http, standin, hub_url, channel, args.user, channels[channel].secret)
        if getattr(args, "name", None):  # the user's LINE profile, which the profile API answers with
            profile = {"channel": channel.value, "userId": args.user, "displayName": args.name}
            http.post(f"{standin}/_standin/profiles", json=profile).raise_for_status()
        if args.follow:
            return chat.send("follow", late=late)
        if args.say is not None:
            return chat.send("message", late=late, text=args.say)
        if args.tap is not None:
            return chat.send("postback", late=late, data=args.tap)
        if getattr(args, "menu", False):
            chat.show_menu()
            return 0
        if getattr(args, "press", None) is not None:
            return chat.press(args.press, late)
        if getattr(args, "sticker", None) is not None:
            package, _, sticker = args.sticker.partition(":")
            return chat.sticker(package or STICKER[0], sticker or STICKER[1], late)
        if getattr(args, "image", None) is not None:
            return chat.image(Path(args.image), late)
        return _interactive(chat)


def _interactive(chat: Chat) -> int:
    """Lines from standard input; pushes that come while the person types are shown as they come."""
    print(chat_help(), file=sys.stderr)
    chat.show_menu()
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):
            try:
                chat.print_new()
            except httpx.HTTPError:  # the stand-in went away: the next command says so
                pass

    watcher = threading.Thread(target=watch, name="line-chat-pushes", daemon=True)
    watcher.start()
    try:
        for line in sys.stdin:
            words = line.strip()
            command, _, rest = words.partition(" ")
            if not words:
                continue
            if words == "/follow":
                chat.send("follow")
            elif command == "/tap" and rest:
                chat.send("postback", data=rest.strip())
            elif words == "/menu":
                chat.show_menu()
            elif command == "/press" and rest.strip().isdigit():
                chat.press(int(rest), 0.0)
            elif command == "/sticker":
                package, _, sticker = rest.strip().partition(" ")
                chat.sticker(package or STICKER[0], sticker.strip() or STICKER[1], 0.0)
            elif command == "/image" and rest:
                chat.image(Path(rest.strip()).expanduser(), 0.0)
            elif words.startswith("/") and command in ("/tap", "/press", "/image"):
                print(chat_help(), file=sys.stderr)
            else:
                chat.send("message", text=words)
    finally:
        stop.set()
        watcher.join(2)
    return 0
