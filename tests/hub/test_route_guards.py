"""Every state-changing route of the hub, walked: each is classified by the guard it must have, and each
guard is tried with wholly wrong and almost-right input (a truncated token or signature, an origin that
only starts with the hub's, another channel's audience or secret, another device's key, a replay). Every
refusal must be the guard's own refusal and change nothing in the database.

The routes come from the app itself (`app.routes`), with both LINE channels mounted, so a route another
change adds is classified by the same rules: console pages by their path and the form check in their
dependencies, LIFF endpoints by the LIFF caller dependency, REST by the bearer dependency or the device
signature header; whatever matches no rule must be on the explicit public list with its reason, or the
classification test fails.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select, update

import hub.models  # noqa: F401
from checkpass_testkit.line_standin import StandIn
from crypto.keys import KeyPair
from hub.console import i18n
from hub.console.web import AnyPage, Form
from hub.core.config import Settings
from hub.core.protection import token_hash
from hub.db import Base, utcnow
from hub.line.liff_caller import liff
from hub.models.identity import ApiToken, Role
from hub.models.line import ChannelName
from hub.services.bootstrap import create_super_admin
from hub.services.line_bindings import CHANNEL_ROLES
from tests.hub.console.consolekit import ORIGIN, csrf_of
from tests.hub.hubkit import SmsOutbox, bearer
from tests.hub.line.linekit import (
    SECRETS,
    TOKENS,
    body_of,
    drained,
    line_settings,
    line_user_id,
    make_event,
    sign,
)
from tests.hub.test_devices_support import auth_headers, batch_body, enrol_device
from tests.hub.test_devices_support import make_event as scan_event

HOUR = dt.timedelta(hours=1)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
LOGIN_CHANNELS = {ChannelName.ENTERPRISE: "2000000011", ChannelName.POLICE: "2000000022"}
FOREIGN_LOGIN_CHANNEL = "1999999999"  # a LIFF app of someone else's LINE Login channel

# State-changing routes no guard protects, each with the reason it is safe to leave open. A new entry
# needs a reason a reviewer accepts; an entry whose route is gone or now guarded fails the test.
PUBLIC: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/login"): "logs in: the password is the credential (throttled per pair/address)",
    ("POST", "/api/v1/auth/sms-login"): "logs in: the SMS code is the credential",
    ("POST", "/api/v1/otp/request"): "sends an SMS code to a number: capped per number and address",
    ("POST", "/api/v1/enterprises/register"): "registration: the SMS code to the admin's mobile is the proof",
    ("POST", "/api/v1/visits"): "a venue check-in (實聯登記) by anyone who scans the venue QR",
    (
        "POST",
        "/api/v1/footprint",
    ): "a person's own 28-day footprint: the SMS code to their mobile is the proof",
    ("POST", "/api/v1/devices/enrol"): "enrolment: the single-use enrolment token is the credential",
    (
        "POST",
        "/api/v1/officers/login/start",
    ): "an officer's device login: answered by SMS to the roster mobile",
    ("POST", "/api/v1/officers/login/verify"): "an officer's device login: the SMS code is the credential",
    (
        "POST",
        "/api/v1/footprint/data-reads",
    ): "a person's own footprint and who read their data: the SMS code to their mobile is the proof",
}
# Bearer routes any logged-in account may call on itself (no permission to hold).
SELF_SERVICE = {
    ("POST", "/api/v1/auth/password"): "changes the caller's own password (the current one is required)",
    ("POST", "/api/v1/auth/logout"): "ends the caller's own session",
}


# --- the routes and their classification --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    calls: tuple[Callable[..., Any], ...]  # every dependency, depth first
    headers: frozenset[str]  # header parameters, anywhere in the dependency tree
    has_body: bool = False  # the route reads a request body (its own or a dependency's)

    def names(self) -> set[str]:
        return {
            f"{getattr(c, '__module__', '')}.{getattr(c, '__qualname__', type(c).__name__)}"
            for c in self.calls
        }

    def url(self, **values: str) -> str:
        """The path with each parameter filled (`values`, else "1")."""
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), self.path)

    def liff_caller(self) -> Any:
        return next(
            (c for c in self.calls if getattr(c, "__qualname__", "").startswith("liff_caller.")), None
        )

    @property
    def liff_channels(self) -> tuple[ChannelName, ...]:
        """The official accounts whose LIFF app may call this endpoint, by the rule: a page under
        /liff/api/{channel}/ is that channel's; otherwise the channels of the roles it serves; with no
        role (check-in, footprint), either."""
        caller = self.liff_caller()
        if caller is None:
            return ()
        named = re.match(r"/liff/api/(enterprise|police)/", self.path)
        if named:
            return (ChannelName(named.group(1)),)
        roles = set(caller.roles)
        wanted = [c for c, served in CHANNEL_ROLES.items() if not roles or roles & set(served)]
        return tuple(wanted)


def _walk(dependant: Any, calls: list[Any], headers: set[str]) -> None:
    headers.update(p.alias.lower() for p in dependant.header_params)
    for sub in dependant.dependencies:
        calls.append(sub.call)
        _walk(sub, calls, headers)


def _reads_body(dependant: Any) -> bool:
    return bool(dependant.body_params) or any(_reads_body(sub) for sub in dependant.dependencies)


def state_changing_routes(app: Any) -> list[Route]:
    out = []
    for context in iter_route_contexts(app.routes):
        methods = context.methods or set()
        dependant = getattr(context, "dependant", None)
        for method in sorted(methods & STATE_CHANGING):
            calls: list[Any] = []
            headers: set[str] = set()
            if dependant is not None:
                _walk(dependant, calls, headers)
            body = dependant is not None and (
                _reads_body(dependant) or any(getattr(c, "__name__", "") == "_raw_body" for c in calls)
            )
            out.append(Route(method, context.path, tuple(calls), frozenset(headers), body))
    return out


CONSOLE_FORM = "hub.console.web.checked_form"
BEARER = "hub.api.deps._authenticate"
SCOPED = ("hub.api.deps.get_scope", "hub.api.deps.require_role.", "hub.api.deps.require_permission.")
WEBHOOK = re.compile(r"/line/\{channel\}/webhook")


def guard_of(route: Route) -> str | None:
    """The guard a route has by the project's rules, or None when it has none it should."""
    names = route.names()
    key = (route.method, route.path)
    if route.path.startswith("/console/"):
        return "console" if CONSOLE_FORM in names else None
    if route.path.startswith("/liff/api/"):
        caller = route.liff_caller()
        # the channels it verifies tokens for must be the rule's (a page must not take another's tokens)
        return "liff" if caller is not None and set(caller.channels) == set(route.liff_channels) else None
    if WEBHOOK.fullmatch(route.path):
        return "webhook"
    if route.path.startswith("/api/v1/"):
        if BEARER in names:
            return "bearer"
        if "x-device-signature" in route.headers:
            return "device"
    return "public" if key in PUBLIC else None


# --- fixtures: both LINE channels, each LIFF app on a LINE Login channel of its own -------------------


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: the guards sit above the database, and the walk is long."""
    path = tmp_path / "hub.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(TOKENS, login_channel_id=LOGIN_CHANNELS[ChannelName.ENTERPRISE])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, standin: StandIn) -> Settings:
    return line_settings(
        settings,
        standin,
        line_login_channel_id=None,
        line_enterprise_login_channel_id=LOGIN_CHANNELS[ChannelName.ENTERPRISE],
        line_police_login_channel_id=LOGIN_CHANNELS[ChannelName.POLICE],
    )


@pytest.fixture
def routes(app: Any) -> list[Route]:
    found = state_changing_routes(app)
    assert len(found) > 50, "the walk found too few routes: is app.routes still how FastAPI lists them?"
    return found


def snapshot(app: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the hub's and LINE's)."""
    with app.state.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


# --- classification -------------------------------------------------------------------------------------


def test_every_state_changing_route_has_its_guard(routes: list[Route]) -> None:
    unguarded = [f"{r.method} {r.path}" for r in routes if guard_of(r) is None]
    assert not unguarded, (
        "state-changing routes without their guard (console: the form check `Form`; LIFF: `liff(...)`; "
        f"REST: a bearer or the device signature; or an entry in PUBLIC with its reason): {unguarded}"
    )
    kinds = {guard_of(r) for r in routes}
    assert kinds == {"console", "liff", "webhook", "bearer", "device", "public"}, kinds


def test_the_public_lists_name_only_routes_that_exist_unguarded(routes: list[Route]) -> None:
    by_key = {(r.method, r.path): r for r in routes}
    for key in PUBLIC:
        assert key in by_key, f"PUBLIC names {key}, which is no longer a route"
        route = by_key[key]
        assert BEARER not in route.names() and "x-device-signature" not in route.headers, (
            f"{key} is guarded now: take it off PUBLIC"
        )
    for key in SELF_SERVICE:
        assert key in by_key and guard_of(by_key[key]) == "bearer", key


def test_every_bearer_route_takes_the_callers_scope(routes: list[Route]) -> None:
    """Scope is enforced by the services through the `Scope` the route hands them (or by a role or
    permission dependency); a bearer route without one would act for anyone logged in."""
    loose = [
        f"{r.method} {r.path}"
        for r in routes
        if guard_of(r) == "bearer"
        and (r.method, r.path) not in SELF_SERVICE
        and not any(n.startswith(SCOPED) for n in r.names())
    ]
    assert not loose, loose


def test_the_classifier_catches_a_route_that_forgot_its_guard(app: Any) -> None:
    """The rules above fail a console page without the form check, a LIFF endpoint without the caller
    dependency and a REST route without a bearer, and accept them once guarded."""
    router = APIRouter()

    @router.post("/console/forgotten")
    def forgotten(page: AnyPage) -> None: ...

    @router.post("/console/guarded")
    def guarded(page: AnyPage, form: Form) -> None: ...

    @router.post("/liff/api/forgotten")
    def liff_forgotten() -> None: ...

    @router.post("/liff/api/guarded")
    def liff_guarded(call: Any = liff(Role.OFFICER)) -> None: ...

    @router.delete("/api/v1/forgotten/{thing_id}")
    def rest_forgotten(thing_id: int) -> None: ...

    probe = FastAPI()
    probe.include_router(router)
    verdicts = {(r.method, r.path): guard_of(r) for r in state_changing_routes(probe)}
    assert verdicts == {
        ("POST", "/console/forgotten"): None,
        ("POST", "/console/guarded"): "console",
        ("POST", "/liff/api/forgotten"): None,
        ("POST", "/liff/api/guarded"): "liff",
        ("DELETE", "/api/v1/forgotten/{thing_id}"): None,
    }


# --- console: the form token and the origin -------------------------------------------------------------

CSRF_REFUSAL = i18n.translate(i18n.DEFAULT_LANGUAGE, "error.csrf")
NEW_PASSWORD = "N3w-password!"


def _console_login(client: TestClient, sms: SmsOutbox, mobile: str) -> None:
    def post(path: str, data: dict[str, str], token_from: str) -> Any:
        token = csrf_of(client.get(token_from).text)
        return client.post(
            path, data={"csrf": token, **data}, headers={"Origin": ORIGIN}, follow_redirects=False
        )

    initial = sms.initial_password(mobile)
    assert (
        post("/console/login", {"mobile": mobile, "password": initial}, "/console/login").status_code == 303
    )
    changed_ = post(
        "/console/password", {"current_password": initial, "new_password": NEW_PASSWORD}, "/console/password"
    )
    assert changed_.status_code == 303, changed_.text


def near_miss_forms(token: str) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """(form, headers) that are almost what the console hands out: each must be refused."""
    own = {"Origin": ORIGIN}
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    return {
        "no token": ({}, own),
        "empty token": ({"csrf": ""}, own),
        "truncated token": ({"csrf": token[:-1]}, own),
        "token with a suffix": ({"csrf": token + "x"}, own),
        "last character changed": ({"csrf": flipped}, own),
        "token only in a wrong header": ({"x-csrf-token": token}, own),
        "origin with a suffix": ({"csrf": token}, {"Origin": ORIGIN + ".evil.test"}),
        "origin on another port": ({"csrf": token}, {"Origin": ORIGIN + ":8000"}),
        "origin by https": ({"csrf": token}, {"Origin": ORIGIN.replace("http:", "https:")}),
        "origin with user info": ({"csrf": token}, {"Origin": "http://testserver@evil.test"}),
        "origin null": ({"csrf": token}, {"Origin": "null"}),
        "no origin, foreign referer": ({"csrf": token}, {"Referer": "http://testserver.evil.test/console/"}),
        "no origin at all": ({"csrf": token}, {}),
    }


def _console_walk(client: TestClient, routes: list[Route], token: str, *, logged_in: bool) -> list[str]:
    problems = []
    for route in routes:
        for what, (form, headers) in near_miss_forms(token).items():
            response = client.request(
                route.method, route.url(), data=form, headers=headers, follow_redirects=False
            )
            refused = response.status_code == 403 and CSRF_REFUSAL in response.text
            # Logged out, a page behind the login may send the browser to it first: also nothing done.
            to_login = (
                not logged_in
                and response.status_code == 303
                and "/console/login" in response.headers.get("location", "")
            )
            if not (refused or to_login):
                problems.append(f"{route.method} {route.path} [{what}]: {response.status_code}")
    return problems


def test_every_console_form_refuses_near_miss_tokens_and_origins(
    app: Any, client: TestClient, routes: list[Route], hub: Any, sms: SmsOutbox, keys_dir: Path
) -> None:
    console = [r for r in routes if guard_of(r) == "console"]
    create_super_admin(hub.db, "+886911000001", "總管理者")
    hub.db.commit()

    anonymous = csrf_of(client.get("/console/login").text)
    before = snapshot(app)
    problems = _console_walk(client, console, anonymous, logged_in=False)
    assert changed(before, snapshot(app)) == []

    _console_login(client, sms, "+886911000001")
    token = csrf_of(client.get("/console/account").text)
    before = snapshot(app)
    problems += _console_walk(client, console, token, logged_in=True)
    assert not problems, problems
    assert changed(before, snapshot(app)) == []

    # The control: the very token and origin get past the check on every form (the page may still
    # refuse the empty form). Logging out comes last, as it ends the session the token belongs to.
    for route in sorted(console, key=lambda r: "logout" in r.path):
        token = csrf_of(client.get("/console/account").text)
        response = client.request(
            route.method,
            route.url(),
            data={"csrf": token},
            headers={"Origin": ORIGIN},
            follow_redirects=False,
        )
        assert CSRF_REFUSAL not in response.text, f"{route.method} {route.path} refused the right token"


# --- LIFF API: LINE's ID token ----------------------------------------------------------------------------


def test_every_liff_endpoint_refuses_tokens_line_does_not_vouch_for_it(
    app: Any, client: TestClient, routes: list[Route], standin: StandIn
) -> None:
    liff = [r for r in routes if guard_of(r) == "liff"]
    user = line_user_id()
    before = snapshot(app)
    problems = []
    for route in liff:
        own = route.liff_channels
        others = [c for c in ChannelName if c not in own]
        good = standin.issue_id_token(user, channel_id=LOGIN_CHANNELS[own[0]])
        tokens = {
            "no token": None,
            "truncated": good[:-1],
            "with a suffix": good + "A",
            "expired": standin.issue_id_token(user, expired=True, channel_id=LOGIN_CHANNELS[own[0]]),
            "another LINE Login channel": standin.issue_id_token(user, channel_id=FOREIGN_LOGIN_CHANNEL),
            "forged": "eyJ" + "A" * 60,
        }
        for other in others:
            tokens[f"the {other} LIFF app's"] = standin.issue_id_token(user, channel_id=LOGIN_CHANNELS[other])
        for what, token in tokens.items():
            body = {} if token is None else {"id_token": token}
            response = client.request(route.method, route.url(), json=body)
            error = (
                response.json().get("error")
                if response.headers.get("content-type", "").startswith("application/json")
                else None
            )
            if response.status_code != 401 or error != "not_authenticated":
                problems.append(f"{route.method} {route.path} [{what}]: {response.status_code} {error}")
        # The control: a token from each of the route's own LIFF apps passes the check (an unbound
        # stranger with an empty form is then refused for another reason, or asked to fill the form).
        for channel in own:
            token = standin.issue_id_token(user, channel_id=LOGIN_CHANNELS[channel])
            response = client.request(route.method, route.url(), json={"id_token": token})
            if response.status_code == 401:
                problems.append(f"{route.method} {route.path}: refused its own {channel} LIFF app's token")
    assert not problems, problems
    assert changed(before, snapshot(app)) == []


# --- LINE webhooks: X-Line-Signature ----------------------------------------------------------------------


def test_every_webhook_refuses_near_miss_signatures(
    app: Any, client: TestClient, routes: list[Route], standin: StandIn
) -> None:
    (webhook,) = [r for r in routes if guard_of(r) == "webhook"]
    problems = []
    for channel in ChannelName:
        other = next(c for c in ChannelName if c is not channel)
        body = body_of(
            make_event("follow", user_id=line_user_id(), reply_token=standin.issue_reply_token(channel))
        )
        good = sign(SECRETS[channel], body)
        raw = base64.b64decode(good)
        changed_body = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
        attempts = {
            "no signature": (body, None),
            "empty signature": (body, ""),
            "truncated signature": (body, good[:-4]),
            "signature missing its last byte": (body, base64.b64encode(raw[:-1]).decode()),
            "signature with a suffix": (body, good + "AAAA"),
            "the other channel's secret": (body, sign(SECRETS[other], body)),
            "body changed by one byte": (changed_body, good),
        }
        before = snapshot(app)
        for what, (content, signature) in attempts.items():
            headers = {"Content-Type": "application/json"}
            if signature is not None:
                headers["X-Line-Signature"] = signature
            response = client.post(webhook.url(channel=channel), content=content, headers=headers)
            if response.status_code != 400 or response.json().get("error") != "bad_signature":
                problems.append(f"{channel} [{what}]: {response.status_code} {response.text[:80]}")
        assert changed(before, snapshot(app)) == [], channel
        assert standin.sent_messages(channel) == [], channel
        # The control: the right signature is taken and answered.
        assert (
            client.post(
                webhook.url(channel=channel), content=body, headers={"X-Line-Signature": good}
            ).status_code
            == 200
        )
        drained(client)  # the webhook answers 200 once the event is stored; the inbox sends the reply
        assert standin.sent_messages(channel), channel
    assert not problems, problems


# --- REST: the bearer token and the caller's scope --------------------------------------------------------


def _token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_every_rest_route_refuses_near_miss_bearers_and_callers_without_permission(
    app: Any, client: TestClient, routes: list[Route], db: Any
) -> None:
    rest = [r for r in routes if guard_of(r) == "bearer"]
    valid = _token_of(auth_headers(db, Role.SUPER_ADMIN))
    logged_out = _token_of(auth_headers(db, Role.SUPER_ADMIN))
    assert client.post("/api/v1/auth/logout", headers=bearer(logged_out)).status_code == 204
    expired = _token_of(auth_headers(db, Role.SUPER_ADMIN))
    db.execute(
        update(ApiToken).where(ApiToken.token_hash == token_hash(expired)).values(expires_at=utcnow() - HOUR)
    )
    db.commit()
    near_misses = {
        "no bearer": {},
        "garbage": bearer("not-a-token"),
        "truncated": bearer(valid[:-1]),
        "with a suffix": bearer(valid + "A"),
        "another scheme": {"Authorization": f"Basic {valid}"},
        "bare token": {"Authorization": valid},
        "logged out": bearer(logged_out),
        "expired": bearer(expired),
    }
    # Callers who hold no permission: a general admin without any, and an enterprise's employee.
    powerless = {
        "admin without permissions": auth_headers(db, Role.GENERAL_ADMIN),
        "employee": auth_headers(db, Role.EMPLOYEE),
    }
    before = snapshot(app)
    problems = []
    for route in rest:
        for what, headers in near_misses.items():
            response = client.request(route.method, route.url(), json={}, headers=headers)
            if response.status_code != 401:
                problems.append(f"{route.method} {route.path} [{what}]: {response.status_code}")
        if (route.method, route.path) in SELF_SERVICE:
            continue
        # Without a body to validate first, nothing but the scope stands between the caller and the
        # action: the answer must be the refusal (403) or, for an object out of the caller's reach, 404.
        allowed = {403, 404, 409, 422} if route.has_body else {403, 404}
        for what, headers in powerless.items():
            response = client.request(route.method, route.url(), json={}, headers=headers)
            if response.status_code not in allowed:
                problems.append(f"{route.method} {route.path} [{what}]: {response.status_code}")
    assert not problems, problems
    assert changed(before, snapshot(app)) == []


# --- device ingestion: the device's signature -------------------------------------------------------------


def test_scan_ingestion_refuses_near_miss_signatures_another_devices_key_and_replays(
    app: Any, client: TestClient, routes: list[Route], db: Any, keys_dir: Path
) -> None:
    # the scan-batch routes (a batch, its replay); the ID-card check's signed request has its own
    # near-miss tests (forged, another device, stale) in tests/hub/test_id_card_check.py
    devices = [r for r in routes if guard_of(r) == "device" and not r.path.endswith("/id-check")]
    assert devices, "no device-signed route found"
    admin = auth_headers(db, Role.SUPER_ADMIN)
    device, intruder = enrol_device(client, admin), enrol_device(client, admin)
    replayed = batch_body(device, [scan_event(device)])
    for route in devices:

        def post(
            body: bytes, signature: str | None, device_id: str = device.device_id, route: Route = route
        ) -> Any:
            headers = {"Content-Type": "application/json", "X-Device-Id": device_id}
            if signature is not None:
                headers["X-Device-Signature"] = signature
            return client.request(route.method, route.url(), content=body, headers=headers)

        first = post(replayed, base64.b64encode(device.key.sign(replayed)).decode())
        assert first.status_code == 200, first.text
        body = batch_body(device, [scan_event(device)])
        raw = device.key.sign(body)
        good = base64.b64encode(raw).decode()
        attempts = {
            "no signature": (body, None, device.device_id),
            "truncated signature": (body, base64.b64encode(raw[:-1]).decode(), device.device_id),
            "signature text cut short": (body, good[:-4], device.device_id),
            "signature with a suffix": (body, good + "AAAA", device.device_id),
            "another device's key": (
                body,
                base64.b64encode(intruder.key.sign(body)).decode(),
                device.device_id,
            ),
            "a key of no device": (
                body,
                base64.b64encode(KeyPair.generate().sign(body)).decode(),
                device.device_id,
            ),
            "body changed by one byte": (
                body[:-2] + bytes([body[-2] ^ 1]) + body[-1:],
                good,
                device.device_id,
            ),
            "another device's id": (
                body,
                base64.b64encode(intruder.key.sign(body)).decode(),
                intruder.device_id,
            ),
            "unknown device": (body, good, str(uuid.uuid4())),
            "replayed batch": (
                replayed,
                base64.b64encode(device.key.sign(replayed)).decode(),
                device.device_id,
            ),
        }
        before = snapshot(app)
        problems = []
        for what, (content, signature, device_id) in attempts.items():
            response = post(content, signature, device_id)
            if response.status_code not in (401, 409):
                problems.append(f"{what}: {response.status_code} {response.text[:80]}")
        assert not problems, problems
        assert changed(before, snapshot(app)) == []
        assert post(body, good).status_code == 200  # the control
