"""The hub's ASGI middleware: trusted proxies, body-size limit, load shedding, request metrics, the
security headers of HTML pages.

Plain ASGI classes, not Starlette's BaseHTTPMiddleware: that one runs every request through an extra
task and memory streams, which profiling showed as a large share of a 304's cost (docs/deploy.md).

Load shedding: a worker that already has `max_in_flight` requests in progress answers the next one 503
with `Retry-After` at once instead of queueing it; of those, `max_running` run at once and the rest wait
their turn, people's requests before programs' and bulk work last, for as long as their class may wait
(`LoadShedding`), then get the same 503. Queued requests are answered seconds later, after
the client has often given up and retried, which only adds load; a fast 503 lets the load balancer try
another worker and the checkpoint app back off (it retries with jitter). Health, readiness and metrics
are never shed, so a busy worker is not mistaken for a dead one; nor are LINE's webhooks, which only
store their events (hub/jobs/line_inbox.py). A request the database cannot take
(no connection to be had) gets the same fast 503 instead of a 500.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import enum
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException

from hub import metrics
from hub.web import request_origin

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NEVER_SHED = frozenset({"/healthz", "/readyz", "/metrics"})


class TrustedProxies:
    """The request's client address and scheme as `hub.web.request_origin` decides them, written
    into the ASGI scope before anything reads them: `request.client`, `request.url.scheme` and
    `request.base_url` (the console's Secure cookies and Origin check, the audit's address) then all
    agree. uvicorn's own proxy headers stay off (hub/cli.py): this is the one place that reads them.
    The trusted networks are read from the app's settings on each request, so a test or the demo that
    swaps the settings is obeyed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            trusted = scope["app"].state.settings.trusted_proxy_networks()
            if trusted:
                peer = scope.get("client")
                origin = request_origin(
                    peer[0] if peer else None, scope["scheme"], Headers(scope=scope), trusted
                )
                if (peer and origin.client != peer[0]) or origin.scheme != scope["scheme"]:
                    scope = dict(scope)
                    scope["scheme"] = origin.scheme
                    if peer and origin.client is not None:
                        scope["client"] = (origin.client, peer[1])
        await self.app(scope, receive, send)


async def _json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body has passed the limit: an HTTPException, so FastAPI's body parsing
    passes it on instead of calling it a malformed body, and the hub's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, {"error": "too_large", "detail": f"request body over {limit} bytes"})


class BodySizeLimit:
    """Refuse bodies over `limit` bytes (413): by their Content-Length before reading them, and by the
    bytes actually read, for a chunked body that has none (or one that lies). The hub never holds more
    than the limit plus one chunk of a body, whoever reads it (a route, a form parser, the webhook)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    await _json(send, 400, {"error": "bad_request", "detail": "bad Content-Length"}, [])
                    return
                if too_big:
                    await _json(send, 413, BodyTooLarge(self.limit).detail, [])
                    return
                break
        read = 0
        started = False

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:  # read where no handler answers it (outside a route)
            if started:
                raise
            await _json(send, 413, exc.detail, [])


class Kind(enum.IntEnum):
    """Who waits for a request, in the order a free running slot is handed out (hub/middleware.py)."""

    INTERACTIVE = 0  # a person: console pages, LIFF pages and their API, logins, password changes, /v/
    API = 1  # the checkpoint app and other programs (they retry with jitter)
    BULK = 2  # scan batches and exports: much work, no one watching it; yields first


# A person at a login form or a LIFF page waits a few seconds without giving up, and a refusal makes them
# try again by hand; a program's request that waits longer than HUB_MAX_QUEUE_WAIT_MS is better told to
# come back (it retries with jitter, nginx tries another machine). docs/deploy.md states the rule.
INTERACTIVE_MAX_WAIT = 5.0
# A person's request let in line is dropped only when its wait runs this much over the measured estimate
# (the hub slowed down under it): a refusal after a long wait makes them wait twice.
INTERACTIVE_OVERRUN = 3.0
_INTERACTIVE = ("/console", "/liff", "/v/", "/line/files/", "/api/v1/auth/", "/api/v1/otp/")
_BULK_PATHS = frozenset({"/api/v1/scans/batches"})
_EXPORT = re.compile(rb"(?:^|&)format=(?:csv|xlsx)(?:&|$)")


def kind_of(scope: Scope) -> Kind | None:
    """The request's class for load shedding; None: never shed (health, readiness, metrics, and LINE's
    webhooks, which only check a signature and store the events: the inbox bounds the work)."""
    path: str = scope["path"]
    if path in NEVER_SHED or (path.startswith("/line/") and path.endswith("/webhook")):
        return None
    if path in _BULK_PATHS or path.endswith(".csv") or _EXPORT.search(scope.get("query_string", b"")):
        return Kind.BULK
    if path.startswith(_INTERACTIVE):
        return Kind.INTERACTIVE
    return Kind.API


class LoadShedding:
    """At most `max_in_flight` requests admitted in this worker, of which `max_running` run at once; the
    others wait their turn on the event loop: people's requests first, then programs', bulk work last,
    each class in arrival order. Beyond the first limit a request gets a fast 503.

    Why two limits: on one core, requests running side by side in threads do not finish sooner, they
    only share the GIL (and the event loop, which answers the 503s, waits behind them all). Forty at
    once meant a request admitted at the back took forty requests' CPU to finish, seconds on a slow
    machine, while the shed answers waited for the loop too (docs/deploy.md). With a few running and a
    short, bounded wait, an answer is either prompt or a prompt 503 whatever the machine's speed.

    What "overloaded" means is measured, per class: the worker keeps a moving average of how long a
    request of each class holds its running slot. A request is refused at once only when the requests
    waiting ahead of it (its own class and those before it) would take longer than its class may wait
    (`interactive_wait` for people, `max_wait` for programs and bulk work). A program's request is shed
    if its wait runs out all the same; a person's only at `INTERACTIVE_OVERRUN` times it. Bulk work is
    also refused while anyone else is waiting. So a handful of slow password logins on an idle hub wait
    a moment for each other and none is refused; under a real overload bulk work is refused first, then
    programs, people last."""

    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int,
        max_running: int = 4,
        max_wait: float = 0.1,
        interactive_wait: float = INTERACTIVE_MAX_WAIT,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_running = max(1, min(max_running, max_in_flight))
        self.max_wait = max_wait
        self.interactive_wait = max(interactive_wait, max_wait)
        self.in_flight = 0  # one event loop per worker: no lock needed
        self.running = 0
        self._waiting: dict[Kind, collections.deque[asyncio.Future[bool]]] = {
            k: collections.deque() for k in Kind
        }
        self._live = dict.fromkeys(Kind, 0)  # waiting and not yet answered, per class
        self.held = dict.fromkeys(Kind, 0.0)  # moving average of seconds a request holds a slot
        self._holding = dict.fromkeys(Kind, 0)  # running now, per class

    def _budget(self, kind: Kind) -> float:
        return self.interactive_wait if kind is Kind.INTERACTIVE else self.max_wait

    def _work_ahead(self, kind: Kind) -> float:
        """Seconds until a request of `kind` arriving now would run, by the measured slot times: the
        requests running (counted whole: how far along they are is not known) and those waiting ahead."""
        ahead = sum(self._holding[k] * self.held[k] for k in Kind)
        ahead += sum(self._live[k] * self.held[k] for k in Kind if k <= kind)
        return ahead / self.max_running

    async def _take_turn(self, kind: Kind) -> bool:
        """A running slot now, or after waiting in line; False when refused or the wait ran out first."""
        if self.running < self.max_running:  # a free slot means nobody live is waiting (see _pass_on)
            self.running += 1
            return True
        if kind is Kind.BULK and any(self._live[k] for k in Kind if k < Kind.BULK):
            return False  # bulk yields: people or programs are already waiting
        budget = self._budget(kind)
        if self._work_ahead(kind) > budget:
            return False  # the line ahead would outlast the wait: say so now, not after it
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[bool] = loop.create_future()
        self._waiting[kind].append(turn)
        self._live[kind] += 1
        give_up = budget * INTERACTIVE_OVERRUN if kind is Kind.INTERACTIVE else budget
        timer = loop.call_later(give_up, lambda: turn.done() or turn.set_result(False))
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result():
                self._pass_on()  # the slot was handed over just as the client went away
            raise
        finally:
            self._live[kind] -= 1
            timer.cancel()

    def _pass_on(self) -> None:
        """Hand the slot to the longest-waiting live request of the first class that has one, or free it."""
        for kind in Kind:
            waiting = self._waiting[kind]
            while waiting:
                turn = waiting.popleft()
                if not turn.done():  # done: timed out or cancelled, already answered
                    turn.set_result(True)
                    return
        self.running -= 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (kind := kind_of(scope)) is None:
            # Never shed, but a database that cannot be reached is still a fast 503, not a 500: LINE
            # redelivers a webhook that got one (the field rehearsal restarts PostgreSQL mid-traffic).
            await self._run(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await _busy(send)
            return
        self.in_flight += 1
        try:
            if not await self._take_turn(kind):
                await _busy(send)
                return
            started = time.monotonic()
            self._holding[kind] += 1
            try:
                await self._run(scope, receive, send)
            finally:
                self._holding[kind] -= 1
                self._pass_on()
                held = time.monotonic() - started
                last = self.held[kind]
                self.held[kind] = held if last == 0 else last + 0.2 * (held - last)
        finally:
            self.in_flight -= 1

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except (OperationalError, PoolTimeout):
            # The database refused a connection (too many clients, down, or this worker's pool empty
            # for pool_timeout): the same overload seen one layer down, answered the same way.
            if started:
                raise
            metrics.REQUESTS_SHED.inc()
            detail = "the database is busy or unreachable; try again shortly"
            await _json(
                send, 503, {"error": "database_unavailable", "detail": detail}, [(b"retry-after", b"1")]
            )


async def _busy(send: Send) -> None:
    metrics.REQUESTS_SHED.inc()
    detail = "the hub is busy; try again shortly"
    await _json(send, 503, {"error": "overloaded", "detail": detail}, [(b"retry-after", b"1")])


def _template(scope: Scope, route: Any) -> str:
    """The matched route's path template with the prefix it was included under (`/api/v1`): FastAPI
    hands back the route as declared in its router, without the prefix."""
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "unmatched"
    path = scope["path"]
    start = path.find(template.split("{", 1)[0])
    return path[:start] + template if start > 0 else template


class RequestMetrics:
    """Latency to the first response byte, labelled by the route's template (`/passes/{pass_id}`),
    never the raw path: ids in paths would make one series per pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                route = scope.get("route")
                template = _template(scope, route)
                metrics.REQUEST_SECONDS.labels(scope["method"], template, f"{status // 100}xx").observe(
                    time.perf_counter() - start
                )
            await send(message)

        await self.app(scope, receive, timed_send)


# ---- security headers of the hub's pages --------------------------------------------------------------


def _policy(*directives: str) -> str:
    return "; ".join(directives)


_LOCKED = ("form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'")

# The console (docs/console.md): htmx and our CSS from our own origin, nothing inline, no eval.
CONSOLE_POLICY = _policy(
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the enrolment QR is a data: PNG
    "connect-src 'self'",
    *_LOCKED,
)
# The LIFF pages and /v/{code}: our script and CSS; the LIFF SDK (served by the hub, docs/line.md) talks
# to LINE's API and opens LINE's own windows (the QR scanner, login) from LINE's hosts.
PAGE_POLICY = _policy(
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self' https://api.line.me https://*.line.me https://*.line-scdn.net",
    "frame-src https://*.line.me",
    *_LOCKED,
)
CONSOLE_PREFIX = "/console"
# Pages with an inline script of their own (Swagger UI's start-up at /docs): the page declares each
# script's hash here (`allow_inline_script`) and gets a policy that runs those scripts and no others.
_INLINE_SCRIPTS: dict[str, set[str]] = {}


def allow_inline_script(path: str, script: str) -> None:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    _INLINE_SCRIPTS.setdefault(path, set()).add(f"'sha256-{digest}'")


def page_headers(path: str) -> dict[str, str]:
    """The security headers of an HTML answer at `path` (or of any answer under /console): the one place
    that decides them (docs/deploy.md)."""
    if path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/"):
        return {
            "Content-Security-Policy": CONSOLE_POLICY,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }
    scripts = _INLINE_SCRIPTS.get(path)
    if scripts:
        policy = _policy(
            "default-src 'none'",
            "script-src 'self' " + " ".join(sorted(scripts)),
            "style-src 'self' 'unsafe-inline'",  # Swagger UI sets styles from its script
            "img-src 'self' data:",
            "connect-src 'self'",
            *_LOCKED,
        )
    else:
        policy = PAGE_POLICY
    return {"Content-Security-Policy": policy, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}


class SecurityHeaders:
    """Every HTML page the hub serves (the console, the LIFF pages, /v/{code}, /docs, an error page) gets
    a Content-Security-Policy with `frame-ancestors 'none'` and `X-Frame-Options: DENY`, so no other
    site can frame it (clickjacking); every answer under /console/ gets the console's headers, and its
    pages `Cache-Control: no-store` (they hold personal data). Pure ASGI, like the rest here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        console = path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")
        console_page = console and not path.startswith(CONSOLE_PREFIX + "/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if console or headers.get("content-type", "").startswith("text/html"):
                    for name, value in page_headers(path).items():
                        headers[name] = value
                if console_page:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
