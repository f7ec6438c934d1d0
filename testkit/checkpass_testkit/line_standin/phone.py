"""The LINE phone: a browser page served by the stand-in (`GET /phone`) that shows a LINE user's side of
an official account as the LINE app would, for the demo and the browser tests.

What it does, and why each part is here:
- **The chat** is what LINE accepted for that user (`StandIn.conversation`: replies to the user's events,
  pushes to the user) beside what the user sent; the page polls it, so late pushes show too.
- **Sending** (a typed text, a tapped quick reply, rich-menu area or Flex button) is a webhook event as
  LINE sends it: built in LINE's shape with a reply token issued for that user, signed with the channel
  secret (`X-Line-Signature`), posted to the channel's webhook URL. The first time a user opens an
  account the phone sends a `follow` event (adding the account as a friend).
- **The rich menu** is the menu linked to the user (else the channel's default) with the image the hub
  uploaded; its areas are the menu's own bounds and actions.
- **LIFF links** (`https://liff.line.me/{liffId}/{path}`) open in the phone's webview: a second origin
  the stand-in serves (`_Webview`) that passes every request on to the LIFF app's endpoint (the hub), as
  LINE's in-app browser loads the endpoint URL. The page gets what the LINE app gives a LIFF app in the
  URL fragment (an access token, a feature token, a context token, an ID token for that user, issued by
  the stand-in), and LINE's real LIFF SDK served by the hub runs on it. The SDK calls LINE's hosts
  (`https://api.line.me/...`, e.g. to check the access token, and LINE's CDN); a service worker of the
  webview (`phone_static/sw.js`) answers those calls from the stand-in, as a test lab's DNS would. Two
  things a real phone gives the SDK are given here by the webview's start page (`phone_static/open.js`): the
  "in the LINE app" mark the SDK keeps in `sessionStorage` (it reads it from the LINE app's user agent,
  which a page cannot set), and a fresh LIFF store per opening (the LINE app opens each LIFF app in a new
  webview). The hub's pages forbid framing (`frame-ancestors 'none'`, `X-Frame-Options`); the webview
  drops those two headers only, because in LINE the page is not framed but shown by the app.
- **SMS**: a demo phone also receives the hub's SMS (the file gateway's outbox), so a person can bind
  with the code LINE asks for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp import web

from checkpass_testkit.line_standin.events import sign, webhook_event

if TYPE_CHECKING:
    from checkpass_testkit.line_standin.server import StandIn

STATIC = Path(__file__).parent / "phone_static"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
LIFF_PREFIX = "https://liff.line.me/"
# Headers that belong to one hop (RFC 9110 section 7.6.1) or that aiohttp recomputes.
_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
}


@dataclass(frozen=True)
class Person:
    """Someone the phone can be. `user_id` None: a guest, a fresh LINE user each time they are picked."""

    key: str
    name: str  # the LINE display name
    role: str  # shown in the picker (zh-TW)
    channel: str | None  # the account the person uses; None: either
    mobile: str | None = None  # where the hub's SMS for this person go (binding)
    user_id: str | None = None


@dataclass(frozen=True)
class Account:
    channel: str
    name: str  # the official account's name as LINE shows it
    webhook_url: str
    secret: str  # the channel secret the webhook is signed with


def person_user_id(key: str) -> str:
    """A fixed LINE user ID per demo person (LINE's shape: U + 32 hex digits)."""
    return "U" + hashlib.sha256(f"checkpass-phone:{key}".encode()).hexdigest()[:32]


class Phone:
    """The `/phone` routes of a stand-in (`StandIn.attach_phone`) and its webview."""

    def __init__(
        self,
        standin: StandIn,
        *,
        accounts: Sequence[Account],
        people: Sequence[Person],
        liff_endpoints: Mapping[str, str],
        sms_file: Path | None = None,
    ) -> None:
        """`liff_endpoints`: LIFF ID → the LIFF app's endpoint URL (all on one origin: the webview's)."""
        self.standin = standin
        self.accounts = {a.channel: a for a in accounts}
        self.people = list(people)
        self.liff_endpoints = dict(liff_endpoints)
        origins = {_origin(url) for url in self.liff_endpoints.values()}
        if len(origins) > 1:
            raise ValueError("the LIFF apps' endpoints must share one origin")
        self.upstream = origins.pop() if origins else ""
        self.sms_file = sms_file
        self.webview_url = ""
        self._said: dict[tuple[str, str], list[tuple[float, dict[str, Any]]]] = {}
        self._followed: set[tuple[str, str]] = set()
        self._names: dict[str, str] = {}
        self._http: aiohttp.ClientSession | None = None
        for person in self.people:
            if person.user_id:
                self._names[person.user_id] = person.name
                for channel in self.accounts:
                    standin.set_profile(channel, person.user_id, person.name)

    # --- the phone page (on the stand-in's own origin) ---

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path in ("/phone", "/phone/"):
            return _static("phone.html")
        if path.startswith("/phone/static/"):
            return _static(path.rsplit("/", 1)[1])
        api = path.removeprefix("/phone/api/")
        if request.method == "GET" and api == "setup":
            return web.json_response(
                {
                    "accounts": [{"channel": a.channel, "name": a.name} for a in self.accounts.values()],
                    "people": [asdict(p) for p in self.people],
                }
            )
        if request.method == "GET" and api == "chat":
            return self._chat(request.query.get("channel", ""), request.query.get("user", ""))
        if request.method == "GET" and api == "menu-image":
            image = self.standin.menu_image(request.query.get("channel", ""), request.query.get("id", ""))
            if image is None:
                return web.json_response({"message": "Not found"}, status=404)
            return web.Response(body=image[0], content_type=image[1])
        if request.method == "GET" and api == "sms":
            return web.json_response({"sms": self._sms(request.query.get("mobile", ""))})
        if request.method == "POST" and api in ("open", "send", "liff"):
            data = await request.json()
            channel, user = str(data.get("channel", "")), str(data.get("user", ""))
            if channel not in self.accounts or not _is_user_id(user):
                return web.json_response({"message": "unknown account or user"}, status=400)
            if api == "open":
                return await self._open(channel, user, str(data.get("name") or ""))
            if api == "send":
                return await self._send(channel, user, data)
            return self._liff(channel, user, str(data.get("url", "")))
        return web.json_response({"message": "Not found"}, status=404)

    def _chat(self, channel: str, user: str) -> web.Response:
        if channel not in self.accounts:
            return web.json_response({"message": "unknown account"}, status=400)
        entries = [(at, "me", m) for at, m in self._said.get((channel, user), [])]
        entries += [(at, "account", m) for at, m in self.standin.conversation(channel, user)]
        entries.sort(key=lambda entry: entry[0])
        menu = self.standin.menu_of(channel, user)
        return web.json_response(
            {"messages": [{"from": who, "message": m} for _at, who, m in entries], "menu": menu}
        )

    async def _open(self, channel: str, user: str, name: str) -> web.Response:
        """The user opens the account's chat: the first time, they add it as a friend (a follow event)."""
        if name:
            self._names.setdefault(user, name)
            self.standin.set_profile(channel, user, self._names[user])
        if (channel, user) in self._followed:
            return web.json_response({"followed": False})
        self._followed.add((channel, user))
        status = await self._post_event(channel, user, "follow")
        return web.json_response({"followed": True, "webhook": status})

    async def _send(self, channel: str, user: str, data: Mapping[str, Any]) -> web.Response:
        kind = data.get("kind")
        if kind == "text":
            text = str(data.get("text", ""))[:5000]
            if not text.strip():
                return web.json_response({"message": "empty"}, status=400)
            self._say(channel, user, text)
            status = await self._post_event(channel, user, "message", text=text)
        elif kind == "postback":
            shown = data.get("displayText")
            if shown:
                self._say(channel, user, str(shown))
            status = await self._post_event(channel, user, "postback", data=str(data.get("data", "")))
        else:
            return web.json_response({"message": "kind is text or postback"}, status=400)
        return web.json_response({"webhook": status}, status=200 if status == 200 else 502)

    def _say(self, channel: str, user: str, text: str) -> None:
        self._said.setdefault((channel, user), []).append((time.monotonic(), {"type": "text", "text": text}))

    async def _post_event(self, channel: str, user: str, kind: str, **fields: str) -> int:
        """One webhook as LINE posts it; the hub's status (0: the hub could not be reached)."""
        account = self.accounts[channel]
        token = self.standin.issue_reply_token(channel, user)
        payload = {
            "destination": "U" + "0" * 32,
            "events": [webhook_event(kind, user, reply_token=token, **fields)],
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(account.secret, body)}
        try:
            async with self._client().post(account.webhook_url, data=body, headers=headers) as response:
                return response.status
        except aiohttp.ClientError:
            return 0

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._http

    def _liff(self, channel: str, user: str, url: str) -> web.Response:
        """What the LINE app does when a LIFF URL is tapped: open the app's endpoint in a webview with the
        user's tokens in the fragment. Answers the webview address for the phone's overlay."""
        if not url.startswith(LIFF_PREFIX) or not self.webview_url:
            return web.json_response({"message": "not a LIFF URL"}, status=400)
        liff_id, _, rest = url[len(LIFF_PREFIX) :].partition("/")
        endpoint = self.liff_endpoints.get(liff_id)
        if endpoint is None:
            return web.json_response({"message": "unknown LIFF app"}, status=404)
        login_channel = liff_id.split("-", 1)[0]
        name = self._names.get(user, "LINE 使用者")
        page = urlsplit(endpoint).path.rstrip("/") + "/" + rest
        context = {
            "type": "utou",
            "utouId": "UU" + secrets.token_hex(16),
            "userId": user,
            "liffId": liff_id,
            "viewType": "full",
            "endpointUrl": self.webview_url + urlsplit(endpoint).path,
            "permanentLinkPattern": "concat",
            "scope": ["openid", "profile", "chat_message.write"],
            "availability": {},
        }
        fragment = urlencode(
            {
                "access_token": self.standin.issue_access_token(user, login_channel),
                "context_token": "e30." + _b64url(json.dumps(context).encode()) + ".sig",
                "feature_token": secrets.token_urlsafe(16),
                "id_token": self.standin.issue_id_token(user, name, channel_id=login_channel),
            }
        )
        return web.json_response(
            {"url": f"{self.webview_url}/_webview/open?{urlencode({'to': page})}#{fragment}"}
        )

    def _sms(self, mobile: str) -> list[dict[str, str]]:
        if not self.sms_file or not mobile or not self.sms_file.is_file():
            return []
        out = []
        for line in self.sms_file.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("to") == mobile:
                out.append({"text": str(record.get("text", "")), "at": str(record.get("at", ""))})
        return out[-5:]

    # --- the webview: a second origin passing requests on to the LIFF endpoint ---

    async def start_webview(self, host: str) -> None:
        """Serve the webview on `host` and a free port (run on the stand-in's event loop)."""
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._webview)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.webview_url = f"http://{host}:{port}"
        self._webview_runner = runner

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        runner = getattr(self, "_webview_runner", None)
        if runner is not None:
            await runner.cleanup()

    async def _webview(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/_webview/sw.js":
            response = _static("sw.js")
            response.headers["Service-Worker-Allowed"] = "/"  # the worker serves every page of the webview
            return response
        if path == "/_webview/open":
            return _static("open.html")
        if path == "/_webview/open.js":
            return _static("open.js")
        if path.startswith("/_webview/line/"):
            return self._line_host(request, path.removeprefix("/_webview/line/"))
        return await self._pass_on(request)

    def _line_host(self, request: web.Request, rest: str) -> web.Response:
        """A call the LIFF SDK made to one of LINE's hosts (`{host}/{path}`), forwarded by sw.js. LINE Login's
        access-token check is answered; the rest (the SDK's translations and extensions from LINE's CDN)
        is not found, and the SDK goes on without them."""
        host, _, path = rest.partition("/")
        if host == "api.line.me" and path == "oauth2/v2.1/verify" and request.method == "GET":
            return self.standin.verify_access_token(request.query.get("access_token", ""))
        return web.json_response({"message": "Not found"}, status=404)

    async def _pass_on(self, request: web.Request) -> web.StreamResponse:
        if not self.upstream:
            return web.Response(status=502, text="no LIFF endpoint configured")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        body = await request.read()
        try:
            async with self._client().request(
                request.method,
                self.upstream + request.rel_url.raw_path_qs,
                data=body or None,
                headers=headers,
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
                out = web.Response(status=answer.status, body=content)
                for name, value in answer.headers.items():
                    lower = name.lower()
                    if lower in _HOP or lower == "x-frame-options":
                        continue
                    if lower == "content-security-policy":
                        value = _without_frame_ancestors(value)
                    out.headers.add(name, value)
                return out
        except aiohttp.ClientError as exc:
            return web.Response(status=502, text=f"the LIFF endpoint could not be reached: {exc}")


def _static(name: str) -> web.Response:
    file = STATIC / name
    if "/" in name or not file.is_file() or file.suffix not in _TYPES:
        return web.json_response({"message": "Not found"}, status=404)
    return web.Response(
        body=file.read_bytes(),
        content_type=_TYPES[file.suffix],
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _is_user_id(user: str) -> bool:
    return len(user) == 33 and user.startswith("U") and all(c in "0123456789abcdef" for c in user[1:])


def _without_frame_ancestors(policy: str) -> str:
    kept = [d.strip() for d in policy.split(";") if not d.strip().lower().startswith("frame-ancestors")]
    return "; ".join(d for d in kept if d)
