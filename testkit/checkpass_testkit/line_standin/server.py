"""A stand-in for the LINE platform: a real HTTP server on loopback, built from LINE's OpenAPI specs.

What it does, and why each part is here:
- Every Messaging API route of `specs/messaging-api.yml` exists; a JSON body is checked against the
  operation's schema following the `discriminator` mappings (`schema.py`), and refused the way LINE
  refuses it (400, `{"message", "details": [{"message", "property"}]}`), so a bad message the hub would
  send is caught in tests instead of in production.
- The bearer token names the channel (one host serves both official accounts, API and blob paths).
- Reply tokens are issued by the stand-in (with each event it helps build) and can be used once,
  within `reply_token_seconds`: a reply sent twice or too late is refused, as LINE does.
- Push honours `X-Line-Retry-Key` (a second push with an accepted key is 409), so a retry never
  doubles a message.
- Rich menus keep state: create, upload the image (its size must match the menu's), link per user,
  default menu, list, delete.
- The profile API (`GET /v2/bot/profile/{userId}`) answers as LINE does: the profile of a user who
  added the account as a friend (`set_profile`; the phone sets its people's), 404 for anyone else,
  400 for what is not a user ID.
- Faults: `inject(path_prefix, status, count)` makes the next `count` matching calls answer 429/500
  before doing anything, to test the hub's retries; `outage(seconds, hang=...)` makes every Messaging
  API call answer 500 for a while, each held `hang` seconds first (a platform that times out), as the
  field rehearsal's LINE outage (deploy/rehearsal/).
- `POST /oauth2/v2.1/verify` (LINE Login's ID-token check, not in the specs) answers for ID tokens the
  stand-in issued (`issue_id_token`). Each token is issued for one LINE Login channel (its `aud`), and a
  verify that names another channel as `client_id` is refused as LINE refuses it, so a hub that sends
  the wrong channel, or accepts a token another channel's LIFF app obtained, fails in tests.
  `inject_verify_answer` bends one answer as LINE never would, to test the hub's own check of it.
  `GET /oauth2/v2.1/verify?access_token=` answers for access tokens it issued (`issue_access_token`),
  which LINE's LIFF SDK checks when a LIFF app opens in the LINE app.
- The LINE phone (`phone.py`, `/phone`): a browser page that shows each LINE user's chat, rich menu and
  LIFF pages as the LINE app would, and sends the hub signed webhooks (`attach_phone`).
- Every call is recorded (`calls()`); a small control API under `/_standin/` offers the same to another
  process (the `checkpass hub line chat` command, the demo): calls, reply tokens, ID tokens, faults, the
  menu a user sees, a user's conversation, the content of an image a user sends, a user's profile.
- With a `state_file` (the demo's), what LINE keeps across a restart is kept there: rich menus and their
  images, which menu each user has, the default menu, profiles. Calls, tokens and chats are not.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from checkpass_testkit.line_standin.schema import load

CONTROL_PREFIX = "/_standin"
_USER_ID = re.compile(r"U[0-9a-f]{32}")  # LINE's user IDs
# Operations whose effect LINE keeps (saved to the state file when one is given)
_KEPT_OPERATIONS = frozenset(
    {
        "createRichMenu",
        "setRichMenuImage",
        "deleteRichMenu",
        "linkRichMenuIdToUser",
        "unlinkRichMenuIdFromUser",
        "setDefaultRichMenu",
        "cancelDefaultRichMenu",
    }
)


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered."""

    channel: str | None
    method: str
    path: str
    operation_id: str
    body: Any
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() when the request arrived (the benchmark's latency end)

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "method": self.method,
            "path": self.path,
            "operation_id": self.operation_id,
            "body": self.body if isinstance(self.body, dict | list | str | None) else None,
            "status": self.status,
        }


@dataclass(frozen=True)
class Answer:
    """A reply or push LINE accepted: what names the event it answers (the reply token, or the push's
    `X-Line-Retry-Key`), the user a push went to, and when it arrived."""

    reply_token: str | None
    retry_key: str | None
    to: str | None
    at: float


@dataclass
class _Fault:
    path_prefix: str
    status: int
    remaining: int


@dataclass
class _RichMenu:
    request: dict[str, Any]
    image: bytes | None = None
    content_type: str | None = None


@dataclass
class _ChannelState:
    rich_menus: dict[str, _RichMenu] = field(default_factory=dict)
    user_menus: dict[str, str] = field(default_factory=dict)
    default_menu: str | None = None
    retry_keys: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)  # user → profile fields but userId


@dataclass
class _ReplyToken:
    channel: str
    issued: float
    used: bool = False
    user: str | None = None  # the LINE user whose event carried it (None: not told)


_ERRORS = {
    401: "Authentication failed. Confirm that the access token in the authorization header is valid.",
    404: "Not found",
    429: "The API rate limit has been exceeded. Try again later.",
    500: "An error occurred in the backend",
}


def _line_error(status: int, message: str | None = None, details: list[dict[str, str]] | None = None) -> Any:
    body: dict[str, Any] = {"message": message or _ERRORS.get(status, "Error")}
    if details:
        body["details"] = details
    return web.json_response(body, status=status, headers={"x-line-request-id": str(uuid.uuid4())})


class StandIn:
    """The stand-in's state and its aiohttp application. `channels`: channel name → access token."""

    def __init__(
        self,
        channels: Mapping[str, str],
        *,
        login_channel_id: str = "1234567890",
        reply_token_seconds: float = 60.0,
        id_token_seconds: float = 3600.0,
        check_every: int = 1,
        state_file: Path | None = None,
    ) -> None:
        """`check_every`: check one request body in N against the spec (tests: every one; bench/line.py
        samples, because checking a reply costs the machine more than the hub spends on the event).
        `state_file`: where what LINE keeps across a restart of the demo is kept (rich menus with their
        images, which menu each user has, the default menu, profiles); None keeps it in memory only."""
        self._by_token = {token: name for name, token in channels.items()}
        self._state = {name: _ChannelState() for name in channels}
        self.login_channel_id = login_channel_id
        self.reply_token_seconds = reply_token_seconds
        self.id_token_seconds = id_token_seconds
        self._reply_tokens: dict[str, _ReplyToken] = {}
        self._id_tokens: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self.phone: Any = None  # the LINE phone's routes (phone.py), when attached
        self._faults: list[_Fault] = []
        self._outage_until = 0.0
        self._outage_hang = 0.0
        self._verify_overrides: list[dict[str, Any]] = []
        self._check_every = max(1, check_every)
        self._bodies_seen = 0
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._spec = load("messaging-api")
        self._state_file = state_file
        self._contents: dict[str, tuple[bytes, str]] = {}  # message id → what a user sent (image)
        if state_file is not None and state_file.exists():
            self._load_state(state_file)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- what tests and the chat command use ---

    def issue_reply_token(self, channel: str, user_id: str | None = None) -> str:
        """A reply token for an event of `user_id` (named, the reply shows in that user's `conversation`)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = _ReplyToken(channel, time.monotonic(), user=user_id)
        return token

    def issue_access_token(self, user_id: str, channel_id: str) -> str:
        """A LINE Login access token of `user_id` for LINE Login channel `channel_id`, as the LINE app hands
        a LIFF app it opens (`GET /oauth2/v2.1/verify` answers for it with that `client_id`)."""
        token = "eyJ" + secrets.token_urlsafe(40)
        with self._lock:
            self._access_tokens[token] = {
                "sub": user_id,
                "client_id": channel_id,
                "exp": time.time() + self.id_token_seconds,
            }
        return token

    def issue_id_token(
        self, user_id: str, name: str = "LINE 使用者", *, expired: bool = False, channel_id: str | None = None
    ) -> str:
        """An ID token as a LIFF app of LINE Login channel `channel_id` (default: `login_channel_id`) gets
        it from `liff.getIDToken()`: its `aud` is that channel, and only that channel may verify it."""
        token = "eyJ" + secrets.token_urlsafe(48)
        now = int(time.time())
        exp = now - 1 if expired else now + int(self.id_token_seconds)
        aud = channel_id or self.login_channel_id
        with self._lock:
            self._id_tokens[token] = {"sub": user_id, "name": name, "iat": now, "exp": exp, "aud": aud}
        return token

    def set_profile(
        self, channel: str, user_id: str, display_name: str, *, language: str | None = "zh-TW"
    ) -> None:
        """`user_id` is a friend of the channel's account with this profile (`GET /v2/bot/profile/{id}`)."""
        profile = {"displayName": display_name}
        if language:
            profile["language"] = language
        with self._lock:
            self._state[channel].profiles[user_id] = profile
            self._save_state()

    def drop_profile(self, channel: str, user_id: str) -> None:
        """`user_id` blocked the account (or was never a friend): the profile API answers 404."""
        with self._lock:
            self._state[channel].profiles.pop(user_id, None)
            self._save_state()

    def add_content(self, channel: str, message_id: str, data: bytes, content_type: str) -> None:
        """What a user sent in message `message_id` (an image), for `GET /v2/bot/message/{id}/content`."""
        with self._lock:
            self._contents[f"{channel}:{message_id}"] = (data, content_type)

    def content_ids(self, channel: str) -> list[str]:
        """The message ids whose content (`add_content`) the stand-in keeps, oldest first."""
        with self._lock:
            prefix = channel + ":"
            return [key[len(prefix) :] for key in self._contents if key.startswith(prefix)]

    def inject(self, path_prefix: str, status: int, count: int = 1) -> None:
        """The next `count` calls whose path starts with `path_prefix` answer `status` and do nothing."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, status, count))

    def clear_faults(self) -> None:
        """LINE answers again: the injected faults not yet used are dropped."""
        with self._lock:
            self._faults.clear()

    def outage(self, seconds: float, *, hang: float = 0.0) -> None:
        """For the next `seconds`, every Messaging API call does nothing and answers 500, after holding
        the request `hang` seconds (longer than the caller's timeout: LINE not answering at all)."""
        with self._lock:
            self._outage_until = time.monotonic() + seconds
            self._outage_hang = hang

    def inject_verify_answer(self, **claims: Any) -> None:
        """The next successful ID-token verify answers with `claims` changed: LINE never would, so this
        is only for testing that the hub checks the answer's `aud`, `iss`, `exp` and `sub` itself."""
        with self._lock:
            self._verify_overrides.append(claims)

    def calls(self, channel: str | None = None, operation_id: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self._calls
                if (channel is None or c.channel == channel)
                and (operation_id is None or c.operation_id == operation_id)
            ]

    def sent_messages(self, channel: str, user_id: str | None = None) -> list[dict[str, Any]]:
        """Messages accepted (2xx) by reply or push, in order; `user_id` narrows push to one user and
        replies to the tokens issued for that user (all replies when it cannot tell)."""
        out: list[dict[str, Any]] = []
        for call in self.calls(channel):
            if call.status // 100 != 2 or call.operation_id not in ("replyMessage", "pushMessage"):
                continue
            if user_id is not None and call.operation_id == "pushMessage" and call.body.get("to") != user_id:
                continue
            out.extend(call.body.get("messages", []))
        return out

    def answers(self, channel: str) -> list[Answer]:
        """Accepted replies and pushes in arrival order (the benchmark and the tests count each event's
        answers with it: none lost, none doubled)."""
        out: list[Answer] = []
        for call in self.calls(channel):
            if call.status // 100 != 2 or not isinstance(call.body, dict):
                continue
            if call.operation_id == "replyMessage":
                out.append(Answer(call.body.get("replyToken"), None, None, call.at))
            elif call.operation_id == "pushMessage":
                key = call.headers.get("X-Line-Retry-Key")
                out.append(Answer(None, key, call.body.get("to"), call.at))
        return out

    def conversation(self, channel: str, user_id: str) -> list[tuple[float, dict[str, Any]]]:
        """The messages LINE accepted for `user_id` (replies to the events the user's tokens came with,
        pushes to the user), each with its arrival time (`time.monotonic()`), in arrival order."""
        return [(at, message) for at, message, _via in self.conversation_via(channel, user_id)]

    def conversation_via(self, channel: str, user_id: str) -> list[tuple[float, dict[str, Any], str]]:
        """`conversation`, each message also with how it came: "reply" or "push"."""
        out: list[tuple[float, dict[str, Any], str]] = []
        with self._lock:
            users = {key: token.user for key, token in self._reply_tokens.items()}
        for call in self.calls(channel):
            if call.status // 100 != 2 or not isinstance(call.body, dict):
                continue
            if call.operation_id == "replyMessage":
                if users.get(str(call.body.get("replyToken"))) != user_id:
                    continue
            elif call.operation_id != "pushMessage" or call.body.get("to") != user_id:
                continue
            via = "reply" if call.operation_id == "replyMessage" else "push"
            out.extend((call.at, message, via) for message in call.body.get("messages", []))
        return out

    def menu_image(self, channel: str, menu_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            menu = self._state[channel].rich_menus.get(menu_id)
            if menu is None or menu.image is None:
                return None
            return menu.image, menu.content_type or "image/png"

    def menu_of(self, channel: str, user_id: str) -> dict[str, Any] | None:
        """The rich menu `user_id` sees: the one linked to the user, else the channel's default."""
        with self._lock:
            state = self._state[channel]
            menu_id = state.user_menus.get(user_id) or state.default_menu
            menu = state.rich_menus.get(menu_id) if menu_id else None
            return dict(menu.request, richMenuId=menu_id) if menu else None

    def linked_menu(self, channel: str, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            state = self._state[channel]
            menu_id = state.user_menus.get(user_id)
            menu = state.rich_menus.get(menu_id) if menu_id else None
            return dict(menu.request, richMenuId=menu_id) if menu else None

    def rich_menus(self, channel: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                key: dict(menu.request, hasImage=menu.image is not None)
                for key, menu in self._state[channel].rich_menus.items()
            }

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # --- serving ---

    def app(self) -> web.Application:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the base URL (e.g. http://127.0.0.1:41234)."""
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._runner = web.AppRunner(self.app(), access_log=None)
                loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, host, port)
                loop.run_until_complete(site.start())
                sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
                bound = sockets[0].getsockname()[1]
                self.url = f"http://{host}:{bound}"
            except BaseException as exc:  # reported to the starting thread
                errors.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="line-standin", daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            raise errors[0]
        return self.url

    def attach_phone(self, phone: Any, host: str = "127.0.0.1") -> str:
        """Serve the LINE phone (`phone.Phone`) at `/phone` and start its webview; returns the page URL."""
        assert self._loop is not None, "start the stand-in first"
        self.phone = phone
        asyncio.run_coroutine_threadsafe(phone.start_webview(host), self._loop).result(10)
        return self.url + "/phone"

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            if self.phone is not None:
                asyncio.run_coroutine_threadsafe(self.phone.close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    # --- request handling ---

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        path = request.path
        if path.startswith(CONTROL_PREFIX + "/"):
            return await self._control(request, path[len(CONTROL_PREFIX) :])
        if self.phone is not None and (path == "/phone" or path.startswith("/phone/")):
            return await self.phone.handle(request)
        if path == "/oauth2/v2.1/verify" and request.method == "POST":
            return await self._verify_id_token(request)
        if path == "/oauth2/v2.1/verify" and request.method == "GET":
            return self.verify_access_token(request.query.get("access_token", ""))
        raw = await request.read()
        op = self._spec.operation(request.method, path)
        channel = self._channel_of(request)
        body: Any = raw
        if op is not None and op.body_schema is not None:
            try:  # recorded as JSON even when a fault answers before validation
                body = json.loads(raw)
            except ValueError:
                pass
        response: web.StreamResponse
        if op is None:
            response = _line_error(404)
        elif channel is None:
            response = _line_error(401)
        elif (fault := self._take_fault(path)) is not None:
            response = _line_error(fault)
        elif (hang := self._in_outage()) is not None:
            if hang:
                await asyncio.sleep(hang)
            response = _line_error(500)
        else:
            response, body = self._handle(request, op.operation_id, op.body_schema, channel, path, raw)
        with self._lock:
            self._calls.append(
                Call(
                    channel=channel,
                    method=request.method,
                    path=path,
                    operation_id=op.operation_id if op else "",
                    body=body,
                    status=response.status,
                    headers=dict(request.headers),
                    at=arrived,
                )
            )
        return response

    def _channel_of(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self._by_token.get(auth[len("Bearer ") :])

    def _in_outage(self) -> float | None:
        """How long to hold a call during an outage (0: answer 500 at once); None outside one."""
        with self._lock:
            return self._outage_hang if time.monotonic() < self._outage_until else None

    def _take_fault(self, path: str) -> int | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    return fault.status
        return None

    def _handle(
        self,
        request: web.Request,
        operation_id: str,
        body_schema: str | None,
        channel: str,
        path: str,
        raw: bytes,
    ) -> tuple[web.StreamResponse, Any]:
        body: Any = raw
        if body_schema is not None:
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return _line_error(400, "The request body is not valid JSON"), raw
            with self._lock:
                self._bodies_seen += 1
                check = self._bodies_seen % self._check_every == 0
            problems = self._spec.problems(body_schema, body) if check else []
            if problems:
                details = [{"message": p.message, "property": p.property} for p in problems]
                return _line_error(400, f"The request body has {len(details)} error(s)", details), body
        handler = getattr(self, f"_op_{operation_id}", None)
        if handler is None:
            return web.json_response({}), body
        with self._lock:
            response = handler(request, self._state[channel], channel, path, body)
            if operation_id in _KEPT_OPERATIONS and response.status // 100 == 2:
                self._save_state()
            return response, body

    # --- what LINE keeps across a restart (the demo's state file) ---

    def _save_state(self) -> None:
        """Write the kept state (under the lock): to a new file, then renamed over the old one."""
        if self._state_file is None:
            return
        kept = {
            channel: {
                "richMenus": {
                    key: {
                        "request": menu.request,
                        "image": base64.b64encode(menu.image).decode() if menu.image else None,
                        "contentType": menu.content_type,
                    }
                    for key, menu in state.rich_menus.items()
                },
                "userMenus": state.user_menus,
                "defaultMenu": state.default_menu,
                "profiles": state.profiles,
            }
            for channel, state in self._state.items()
        }
        partial = self._state_file.with_name(self._state_file.name + ".partial")
        partial.write_text(json.dumps(kept, ensure_ascii=False))
        os.replace(partial, self._state_file)

    def _load_state(self, path: Path) -> None:
        kept = json.loads(path.read_text())
        for channel, saved in kept.items():
            if channel not in self._state:
                continue  # a channel the demo no longer runs
            state = self._state[channel]
            for key, menu in saved.get("richMenus", {}).items():
                image = base64.b64decode(menu["image"]) if menu.get("image") else None
                state.rich_menus[key] = _RichMenu(menu["request"], image, menu.get("contentType"))
            state.user_menus = {u: m for u, m in saved.get("userMenus", {}).items() if m in state.rich_menus}
            default = saved.get("defaultMenu")
            state.default_menu = default if default in state.rich_menus else None
            state.profiles = dict(saved.get("profiles", {}))

    # Each _op_ runs under the lock with the validated body.

    def _op_replyMessage(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        token = self._reply_tokens.get(body["replyToken"])
        if token is None or token.channel != channel or token.used:
            return _line_error(400, "Invalid reply token")
        if time.monotonic() - token.issued > self.reply_token_seconds:
            return _line_error(400, "Invalid reply token")
        token.used = True
        return _sent(body)

    def _op_pushMessage(self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any):
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None:
            try:
                uuid.UUID(key)
            except ValueError:
                return _line_error(400, "The retry key must be a UUID")
            if key in state.retry_keys:
                return web.json_response(
                    {"message": "The retry key is already accepted"},
                    status=409,
                    headers={"x-line-accepted-request-id": state.retry_keys[key]},
                )
        response = _sent(body)
        if key is not None:
            state.retry_keys[key] = response.headers["x-line-request-id"]
        return response

    def _op_getProfile(self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any):
        """As LINE answers: 400 for what is no user ID, 404 for a user who has not added the account as
        a friend (or blocked it: here, whose profile was never set), else the profile, with `language`
        and `pictureUrl` only when the user has them."""
        user_id = path.rsplit("/", 1)[1]
        if not _USER_ID.fullmatch(user_id):
            return _line_error(400, "The value for the 'userId' parameter is invalid")
        profile = state.profiles.get(user_id)
        if profile is None:
            return _line_error(404)
        return web.json_response({"userId": user_id, **profile})

    def _op_getMessageContent(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        """What a user sent (an image): kept by `add_content` for the message id its event names."""
        content = self._contents.get(f"{channel}:{path.split('/')[4]}")
        if content is None:
            return _line_error(404)
        return web.Response(body=content[0], content_type=content[1])

    def _op_createRichMenu(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        if len(state.rich_menus) >= 1000:
            return _line_error(400, "The number of rich menus exceeds the limit")
        menu_id = "richmenu-" + secrets.token_hex(16)
        state.rich_menus[menu_id] = _RichMenu(request=body)
        return web.json_response({"richMenuId": menu_id})

    def _op_setRichMenuImage(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        menu_id = path.split("/")[4]
        menu = state.rich_menus.get(menu_id)
        if menu is None:
            return _line_error(404)
        if menu.image is not None:
            return _line_error(400, "An image has already been uploaded to the richmenu")
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type not in ("image/png", "image/jpeg"):
            return _line_error(415, "Unsupported Media Type")
        if len(body) > 1024 * 1024:
            return _line_error(413, "Request Entity Too Large")
        size = _image_size(body)
        want = (menu.request["size"]["width"], menu.request["size"]["height"])
        if size != want:
            return _line_error(400, "An image size does not match the richmenu size")
        menu.image, menu.content_type = body, content_type
        return web.json_response({})

    def _op_getRichMenuImage(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        menu = state.rich_menus.get(path.split("/")[4])
        if menu is None or menu.image is None:
            return _line_error(404)
        return web.Response(body=menu.image, content_type=menu.content_type or "image/png")

    def _op_getRichMenuList(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        menus = [dict(m.request, richMenuId=key) for key, m in state.rich_menus.items()]
        return web.json_response({"richmenus": menus})

    def _op_getRichMenu(self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any):
        menu_id = path.rsplit("/", 1)[1]
        menu = state.rich_menus.get(menu_id)
        if menu is None:
            return _line_error(404)
        return web.json_response(dict(menu.request, richMenuId=menu_id))

    def _op_deleteRichMenu(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        menu_id = path.rsplit("/", 1)[1]
        if state.rich_menus.pop(menu_id, None) is None:
            return _line_error(404)
        state.user_menus = {u: m for u, m in state.user_menus.items() if m != menu_id}
        if state.default_menu == menu_id:
            state.default_menu = None
        return web.json_response({})

    def _op_linkRichMenuIdToUser(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        parts = path.split("/")
        user_id, menu_id = parts[4], parts[6]
        menu = state.rich_menus.get(menu_id)
        if menu is None:
            return _line_error(404)
        if menu.image is None:
            return _line_error(400, "must upload richmenu image before applying it to user")
        state.user_menus[user_id] = menu_id
        return web.json_response({})

    def _op_unlinkRichMenuIdFromUser(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        state.user_menus.pop(path.split("/")[4], None)
        return web.json_response({})

    def _op_getRichMenuIdOfUser(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        menu_id = state.user_menus.get(path.split("/")[4]) or state.default_menu
        if menu_id is None:
            return _line_error(404, "the user has no richmenu")
        return web.json_response({"richMenuId": menu_id})

    def _op_setDefaultRichMenu(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        menu_id = path.rsplit("/", 1)[1]
        menu = state.rich_menus.get(menu_id)
        if menu is None:
            return _line_error(404)
        if menu.image is None:
            return _line_error(400, "must upload richmenu image before applying it to user")
        state.default_menu = menu_id
        return web.json_response({})

    def _op_getDefaultRichMenuId(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        if state.default_menu is None:
            return _line_error(404, "no default richmenu")
        return web.json_response({"richMenuId": state.default_menu})

    def _op_cancelDefaultRichMenu(
        self, request: web.Request, state: _ChannelState, channel: str, path: str, body: Any
    ):
        state.default_menu = None
        return web.json_response({})

    # --- LINE Login ---

    async def _verify_id_token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        id_token, client_id = str(form.get("id_token", "")), str(form.get("client_id", ""))
        with self._lock:
            claims = self._id_tokens.get(id_token)
        status, body = 200, {}
        if not id_token or not client_id:
            status, body = (
                400,
                {"error": "invalid_request", "error_description": "Required parameter missing."},
            )
        elif claims is None:
            status, body = 400, {"error": "invalid_request", "error_description": "Invalid IdToken."}
        elif client_id != claims["aud"]:
            # The channel asking is not the one the token was issued for (LINE answers the same way).
            status, body = 400, {"error": "invalid_request", "error_description": "Invalid IdToken Audience."}
        elif claims["exp"] <= time.time():
            status, body = 400, {"error": "invalid_request", "error_description": "IdToken expired."}
        elif form.get("user_id") and form.get("user_id") != claims["sub"]:
            status, body = 400, {"error": "invalid_request", "error_description": "Invalid IdToken Subject."}
        else:
            body = {
                "iss": "https://access.line.me",
                "sub": claims["sub"],
                "aud": claims["aud"],
                "exp": claims["exp"],
                "iat": claims["iat"],
                "amr": ["linesso"],
                "name": claims["name"],
                "picture": "https://profile.line-scdn.net/placeholder",
            }
            if form.get("nonce"):
                body["nonce"] = str(form["nonce"])
            with self._lock:
                if self._verify_overrides:
                    body.update(self._verify_overrides.pop(0))
        with self._lock:
            self._calls.append(
                Call(None, "POST", request.path, "verifyIdToken", {"client_id": client_id}, status)
            )
        return web.json_response(body, status=status)

    def verify_access_token(self, access_token: str) -> web.Response:
        """LINE Login's access-token check (`GET /oauth2/v2.1/verify`) for tokens of `issue_access_token`."""
        with self._lock:
            claims = self._access_tokens.get(access_token)
        if claims is None or claims["exp"] <= time.time():
            status, body = 400, {"error": "invalid_request", "error_description": "access token expired"}
        else:
            left = int(claims["exp"] - time.time())
            status, body = (
                200,
                {"scope": "openid profile", "client_id": claims["client_id"], "expires_in": left},
            )
        with self._lock:
            self._calls.append(Call(None, "GET", "/oauth2/v2.1/verify", "verifyAccessToken", None, status))
        return web.json_response(body, status=status)

    # --- control API for another process ---

    async def _control(self, request: web.Request, what: str) -> web.StreamResponse:
        data: dict[str, Any] = {}
        if request.method == "POST" and request.can_read_body:
            data = await request.json()
        if what == "/calls" and request.method == "GET":
            since = int(request.query.get("since", "0"))
            calls = self.calls(request.query.get("channel"))
            return web.json_response({"calls": [c.as_dict() for c in calls[since:]], "next": len(calls)})
        if what == "/reply-tokens" and request.method == "POST":
            channel = str(data.get("channel", ""))
            if channel not in self._state:
                return web.json_response({"message": "unknown channel"}, status=400)
            user = data.get("userId")
            return web.json_response({"replyToken": self.issue_reply_token(channel, user and str(user))})
        if what == "/id-tokens" and request.method == "POST":
            channel_id = data.get("channelId")
            token = self.issue_id_token(
                str(data["userId"]),
                str(data.get("name", "LINE 使用者")),
                channel_id=str(channel_id) if channel_id else None,
            )
            return web.json_response({"idToken": token})
        if what == "/faults" and request.method == "POST":
            self.inject(str(data["path"]), int(data["status"]), int(data.get("count", 1)))
            return web.json_response({})
        if what.startswith("/menu/") and request.method == "GET":
            _, _, channel, user_id = what.split("/", 3)
            return web.json_response(
                {"menu": self.menu_of(channel, user_id) if channel in self._state else None}
            )
        if what.startswith("/conversation/") and request.method == "GET":
            _, _, channel, user_id = what.split("/", 3)
            if channel not in self._state:
                return web.json_response({"message": "unknown channel"}, status=400)
            said = self.conversation_via(channel, user_id)
            new = said[int(request.query.get("since", "0")) :]
            return web.json_response(
                {"messages": [m for _, m, _ in new], "via": [v for _, _, v in new], "next": len(said)}
            )
        if what == "/profiles" and request.method == "POST":
            channel, user_id = str(data.get("channel", "")), str(data.get("userId", ""))
            if channel not in self._state or not _USER_ID.fullmatch(user_id):
                return web.json_response({"message": "unknown channel or not a user ID"}, status=400)
            self.set_profile(channel, user_id, str(data.get("displayName", "")) or "LINE 使用者")
            return web.json_response({})
        if what == "/contents" and request.method == "POST":
            channel = str(data.get("channel", ""))
            if channel not in self._state:
                return web.json_response({"message": "unknown channel"}, status=400)
            content = base64.b64decode(str(data.get("data", "")))
            self.add_content(
                channel, str(data["messageId"]), content, str(data.get("contentType", "image/jpeg"))
            )
            return web.json_response({})
        if what.startswith("/linked-menu/") and request.method == "GET":
            _, _, channel, user_id = what.split("/", 3)
            return web.json_response({"menu": self.linked_menu(channel, user_id)})
        return web.json_response({"message": "Not found"}, status=404)


def _sent(body: dict[str, Any]) -> web.Response:
    sent = [
        {"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_hex(8)} for _ in body["messages"]
    ]
    return web.json_response({"sentMessages": sent}, headers={"x-line-request-id": str(uuid.uuid4())})


def _image_size(data: bytes) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None
