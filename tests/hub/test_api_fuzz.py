"""Property-based fuzzing of every REST operation with schemathesis, in-process, on SQLite and (when
HUB_TEST_POSTGRES_URL is set, always in CI) on PostgreSQL.

One hub for the module holds a small world (a super admin, a station with an admin and an officer, an
enterprise with an employee and a pass, a venue), so generated ids often hit real rows. Then:
- a bounded, derandomized hypothesis run per operation of schema-conforming and schema-violating
  requests, once with a super admin's token and once anonymous;
- deterministic edge values for every path and query parameter (ids past INTEGER/BIGINT, NUL, huge
  text), which a few random examples rarely draw;
- every JSON field of every route filled with personal data in a rejected shape.
Asserted throughout: no 5xx, and no error body that repeats personal data the request carried; the
hypothesis run also checks status codes and response bodies against the OpenAPI document.

Knob for a deeper local hunt (CI uses the default, about a minute per database): FUZZ_EXAMPLES (per
operation and caller, default 6).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import select

from hub.core.config import Settings
from hub.main import create_app
from hub.models.identity import Role, User
from hub.services.identity import issue_token
from tests.ci import skip_or_fail
from tests.hub.databases import PG_ENV, pg_schema, postgres_url
from tests.hub.hubkit import PASSPHRASE, SECRET, Hub, SmsOutbox, bearer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# Personal data the world holds: none of it may come back in clear in an error body.
MOBILES = ("+886911000001", "+886922000001", "+886933000001", "0912345678", "0955111222")
NATIONAL_IDS = ("A123456789",)
NAMES = ("總管理者", "林警官", "曾可愛", "陳大明", "張志明")
_MOBILE = re.compile(r"(?:\+?886|0)9\d{8}")
_NATIONAL_ID = re.compile(r"[A-Z][12]\d{8}")


@schemathesis.serializer("application/cose", "application/cbor")
def _raw_bytes(_ctx: Any, value: Any) -> dict[str, bytes]:
    """The trust bundle upload is raw bytes; generated strings go as UTF-8, anything else as JSON."""
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8", "surrogatepass")}
    return {"data": json.dumps(value, default=repr).encode()}


def _settings(directory: Path, database_url: str | None = None) -> Settings:
    return Settings(
        database_url=database_url or f"sqlite:///{directory}/hub.db",
        keys_dir=directory / "keys",
        key_passphrase=PASSPHRASE,
        secret_key=SECRET,
        sms_gateway="file",
        sms_file_path=directory / "sms.jsonl",
        purge_interval_seconds=0,
        trust_publish_seconds=0,
        base_url="http://testserver",
        otp_hourly_cap_per_ip=10_000,
        otp_daily_cap_per_ip=10_000,
        otp_resend_cooldown_seconds=0,
        _env_file=None,
    )


def _schema() -> Any:
    """The OpenAPI document, read from an app on a throwaway database (only the routes matter here)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_settings(Path(tmp)), migrate=False)
        document = app.openapi()
        app.state.engine.dispose()
    return schemathesis.openapi.from_dict(document)


SCHEMA = _schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzz_hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _keys_template: Path
) -> Iterator[Hub]:
    """One hub per database for the whole module (a world per operation would cost minutes), driven by a
    client that turns crashes into 500 responses so a crash is reported like any other 5xx. PostgreSQL
    (HUB_TEST_POSTGRES_URL) gets a schema of its own: the per-test fixtures empty the run's shared
    schema, which would wipe this module's world between its tests."""
    directory = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    shutil.copytree(_keys_template, directory / "keys")
    with contextlib.ExitStack() as stack:
        database_url = None
        if request.param == "postgresql":
            url = postgres_url()
            if url is None:
                skip_or_fail(f"PostgreSQL is not configured ({PG_ENV})")
            database_url = stack.enter_context(pg_schema(url, label="fuzz"))
        settings = _settings(directory, database_url)
        app = create_app(settings)
        stack.callback(app.state.engine.dispose)
        with TestClient(app, raise_server_exceptions=False) as client, app.state.sessionmaker() as db:
            hub = Hub(client=client, sms=SmsOutbox(settings.sms_file_path), db=db)
            _populate(hub)
            yield hub


def _populate(hub: Hub) -> None:
    """Rows for the generated ids to find: ids are small integers, so most of these are id 1."""
    client = hub.client
    token = hub.super_admin_token()
    station = hub.create_station(token)
    hub.station_admin_token(token, station["id"])
    officer = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "張志明", "officer_number": "NTP-0001", "mobile": "0955111222"},
        headers=bearer(token),
    )
    assert officer.status_code == 201, officer.text
    enterprise_token, org = hub.register_enterprise()
    employee = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"},
        headers=bearer(enterprise_token),
    )
    assert employee.status_code == 201, employee.text
    issued = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{employee.json()['id']}/passes",
        json={},
        headers=bearer(enterprise_token),
    )
    assert issued.status_code == 201, issued.text
    venue = client.post(
        f"/api/v1/organisations/{org['id']}/venues",
        json={"names": ["大門"], "address": "台北市大安區敦化南路二段76號5樓"},
        headers=bearer(enterprise_token),
    )
    assert venue.status_code == 201, venue.text


def _fresh_super_admin_token(hub: Hub) -> str:
    """A new token per example: a generated logout, password reset or disable must not starve the rest
    of the run of an authenticated caller."""
    db = hub.db
    db.rollback()
    user = db.scalars(select(User).where(User.role == Role.SUPER_ADMIN.value)).first()
    assert user is not None
    user.active = True
    user.must_change_password = False
    token, _ = issue_token(db, user, None)
    db.commit()
    return token


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _echoed_personal_data(case: Any, body: str) -> list[str]:
    """Values from the request that an error body must not repeat: anything shaped like a mobile or a
    national ID, the world's personal data, and any long generated string (it could be a name)."""
    sent = [*_strings(case.body), *_strings(case.query or {}), *_strings(case.path_parameters or {})]
    suspicious = {s for s in sent if _MOBILE.search(s) or _NATIONAL_ID.search(s) or len(s) >= 12}
    suspicious.update(MOBILES + NATIONAL_IDS + NAMES)
    return sorted(s for s in suspicious if s.strip() and s in body)


def _replaced(value: Any, olds: set[str]) -> Any:
    """`value` with each string in `olds` replaced by a string of the same length that no text holds."""
    if isinstance(value, str):
        return "\u2603" * len(value) if value in olds else value
    if isinstance(value, dict):
        return {key: _replaced(item, olds) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_replaced(item, olds) for item in value)
    return value


def _echoes(client: TestClient, case: Any, headers: dict[str, str], response: Any) -> list[str]:
    """The personal data an error body repeats from the request. A value the hub's own words happen to
    hold (the generator sent "unknown toke" and the 401 says "unknown token") is no echo: the same request
    with that value replaced must then show it still."""
    echoed = _echoed_personal_data(case, response.text)
    if not echoed:
        return []
    olds = set(echoed)
    again = case.operation.Case(
        method=case.method,
        path_parameters=_replaced(case.path_parameters, olds),
        headers=case.headers,
        cookies=case.cookies,
        query=_replaced(case.query, olds),
        body=_replaced(case.body, olds),
        media_type=case.media_type,
    )
    own_words = _send(client, again, headers).text
    return [value for value in echoed if value not in own_words]


def _part(value: Any) -> Any:
    """A multipart value as httpx takes it: requests stringifies numbers and None, httpx does not."""
    return value if isinstance(value, str | bytes) else str(value).encode()


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    request_headers = {**(kwargs.get("headers") or {}), **headers}  # our token wins over a generated one
    request: dict[str, Any] = {"headers": request_headers, "params": kwargs.get("params")}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    if kwargs.get("files") is not None:
        request["files"] = [(name, (part[0], _part(part[1]), *part[2:])) for name, part in kwargs["files"]]
    if kwargs.get("data") is not None:
        data = kwargs["data"]
        request["content" if isinstance(data, bytes | str) else "data"] = data
    built = client.build_request(kwargs["method"], kwargs["url"], **request)
    built.read()  # buffer a multipart stream: the conformance checks read the body again for their report
    return client.send(built)


CONFORMANCE = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.response_schema_conformance,
]


def _check(client: TestClient, case: Any, headers: dict[str, str], authed: bool) -> None:
    response = _send(client, case, headers)
    label = f"{case.operation.label} ({'super admin' if authed else 'anonymous'})"
    sent = json.dumps(case.body, ensure_ascii=False, default=repr)[:300] if case.body is not None else ""
    where = f"{label} path={case.path_parameters} query={case.query} body={sent}"
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:500]}"
    if response.status_code >= 400:
        echoed = _echoes(client, case, headers, response)
        assert not echoed, f"{where} -> error body echoes {echoed}: {response.text[:500]}"
    # Status codes and bodies as the OpenAPI document describes them (4xx included: hub/errors.py).
    case.validate_response(response, checks=CONFORMANCE)


@pytest.mark.parametrize("authed", [True, False], ids=["super_admin", "anonymous"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_survives_fuzzing(operation: Any, authed: bool, fuzz_hub: Hub) -> None:
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        headers = bearer(_fresh_super_admin_token(fuzz_hub)) if authed else {}
        _check(fuzz_hub.client, case, headers, authed)

    run()


def _json_body_properties(operation: Any) -> list[str]:
    """The top-level property names of an operation's JSON body schema (refs resolved)."""
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return []
    components = SCHEMA.raw_schema.get("components", {}).get("schemas", {})
    for _ in range(5):
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
        elif schema.get("anyOf"):
            schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), {})
        else:
            break
    return sorted(schema.get("properties", {}))


JSON_OPERATIONS = [op for op in OPERATIONS if _json_body_properties(op)]
SECRET_LOOKING = ("A123456789", "0912345678", "陳大明")


@pytest.mark.parametrize("shape", ["oversize", "wrong_type", "bad_value"])
@pytest.mark.parametrize("operation", JSON_OPERATIONS, ids=[op.label for op in JSON_OPERATIONS])
def test_rejections_never_echo_personal_data(operation: Any, shape: str, fuzz_hub: Hub) -> None:
    """Every JSON field of every route filled with personal data in a rejected shape: the 4xx must say
    which field is wrong without repeating what was in it."""
    values = {
        "oversize": lambda: " ".join(SECRET_LOOKING) * 100,
        "wrong_type": lambda: {"nested": list(SECRET_LOOKING)},
        "bad_value": lambda: "".join(SECRET_LOOKING) + "\x00",
    }
    body = {name: values[shape]() for name in _json_body_properties(operation)}
    path = operation.path
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace(f"{{{name}}}", "1")
    response = fuzz_hub.client.request(
        operation.method.upper(),
        path,
        json=body,
        headers=bearer(_fresh_super_admin_token(fuzz_hub)),
    )
    assert 400 <= response.status_code < 500, (
        f"{operation.label}: {response.status_code} {response.text[:300]}"
    )
    assert response.json()["error"], response.text
    for secret in SECRET_LOOKING:
        assert secret not in response.text, f"{operation.label} echoes {secret}: {response.text[:300]}"


def test_access_log_never_shows_query_values(fuzz_hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn logs each request line with its query string; /queries/visits?mobile=... and
    /queries/passes?person=... carry personal data there. The app's filter masks the values."""
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The record exactly as uvicorn's HTTP protocol writes it.
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:50000",
            "GET",
            "/api/v1/queries/passes?person=A123456789&unmask=true&mobile=0912345678",
            "1.1",
            200,
        )
    logged = caplog.records[-1].getMessage()
    assert "A123456789" not in logged and "0912345678" not in logged, logged
    assert "/api/v1/queries/passes?person=***&unmask=***&mobile=***" in logged


# Edge values a random run of a few examples rarely draws: past PostgreSQL's INTEGER and SQLite's
# INTEGER, negative, zero; and for text, a NUL (PostgreSQL text cannot hold it), a huge value, and
# personal data that must not come back.
INTEGER_PROBES = ("0", "-1", str(2**31), str(2**63), str(2**64), "1" * 40, "1.5", "A123456789")
TEXT_PROBES = ("\x00", "x" * 5000, "0912345678", "A123456789", "../../etc/passwd", "%")
# Datetimes at the ends of Python's range: converting them to UTC or epoch seconds overflows.
DATETIME_PROBES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31", "1e308", "nan")


def _parameter_probes(parameter: dict[str, Any]) -> tuple[str, ...]:
    schema = parameter.get("schema", {})
    variants = [schema, *schema.get("anyOf", [])]
    if any(v.get("type") == "integer" for v in variants):
        return INTEGER_PROBES
    if any(v.get("format") in ("date-time", "date") for v in variants):
        return DATETIME_PROBES + TEXT_PROBES
    return TEXT_PROBES


def _filled_path(operation: Any, overrides: dict[str, str]) -> str:
    path = operation.path
    for name in re.findall(r"{(\w+)}", path):
        path = path.replace(f"{{{name}}}", quote(overrides.get(name, "1"), safe=""))
    return path


def _edge_parameters(operation: Any) -> list[dict[str, Any]]:
    return [p for p in operation.definition.raw.get("parameters", []) if p["in"] in ("path", "query")]


# Only operations with a path or query parameter: one without has nothing to probe, and a case that sends
# no request cannot fail.
PARAMETER_OPERATIONS = [op for op in OPERATIONS if _edge_parameters(op)]


@pytest.mark.parametrize("operation", PARAMETER_OPERATIONS, ids=[op.label for op in PARAMETER_OPERATIONS])
def test_parameter_edge_values_are_refused_cleanly(operation: Any, fuzz_hub: Hub) -> None:
    """Each path and query parameter of each route, one edge value at a time (the others valid), with a
    super admin's token: a 2xx or a clean 4xx, never a 5xx, never personal data echoed in an error."""
    sent = 0
    for parameter in _edge_parameters(operation):
        for value in _parameter_probes(parameter):
            if parameter["in"] == "path":
                url, params = _filled_path(operation, {parameter["name"]: value}), {}
            else:
                url, params = _filled_path(operation, {}), {parameter["name"]: value}
            response = fuzz_hub.client.request(
                operation.method.upper(),
                url,
                params=params,
                headers=bearer(_fresh_super_admin_token(fuzz_hub)),
            )
            sent += 1
            where = f"{operation.label} {parameter['name']}={value[:20]!r}"
            assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:300]}"
            if response.status_code >= 400:
                for secret in ("0912345678", "A123456789"):
                    assert secret not in response.text, f"{where} echoes {secret}: {response.text[:300]}"
    assert sent, f"{operation.label}: no edge value was sent"


def test_every_operation_with_parameters_gets_edge_values() -> None:
    """The selection above drops only operations that truly have no path or query parameter."""
    for operation in OPERATIONS:
        if operation not in PARAMETER_OPERATIONS:
            assert "{" not in operation.path, operation.label
            assert not [p for p in operation.definition.raw.get("parameters", []) if p["in"] == "query"]
    assert len(PARAMETER_OPERATIONS) >= 10


def test_signed_batch_with_nul_in_text_is_refused_per_event(
    client: TestClient, db: Any, keys_dir: Path
) -> None:
    """A device-signed batch bypasses the OpenAPI fuzzing (it needs the device key), so its text fields
    get the NUL probe here, on both databases: a rejected event, not a 500 from PostgreSQL."""
    from tests.hub.test_devices_support import auth_headers, batch_body, enrol_device, make_event, post_batch

    device = enrol_device(client, auth_headers(db, Role.SUPER_ADMIN))
    events = [
        make_event(device, hlc="0000000000001:\x00"),
        make_event(device, officer_id="1\x00"),
        make_event(device),
    ]
    response = post_batch(client, device, batch_body(device, events))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "accepted"], results


def test_a_value_the_hub_s_own_words_hold_is_not_an_echo_but_a_repeated_one_is(fuzz_hub: Hub) -> None:
    """The generator once sent the reason "unknown toke" anonymously, and the 401 says "unknown token": no
    echo (the same request with another reason still shows it). A body that does repeat a sent name is one."""
    revoke = next(op for op in OPERATIONS if op.label == "POST /api/v1/passes/{pass_id}/revoke")
    case = revoke.Case(path_parameters={"pass_id": "0"}, body={"reason": "unknown toke"})
    stranger = {"Authorization": "Bearer not-a-token-the-hub-issued"}
    response = _send(fuzz_hub.client, case, stranger)
    assert response.status_code == 401 and "unknown toke" in response.text
    assert _echoes(fuzz_hub.client, case, stranger, response) == []

    class Repeating:
        """A front end that repeats what it was sent (what the check is for)."""

        def __init__(self, client: TestClient) -> None:
            self.client = client

        def build_request(self, *args: Any, **kwargs: Any) -> Any:
            return self.client.build_request(*args, **kwargs)

        def send(self, request: Any) -> Any:
            got = self.client.send(request)
            return httpx.Response(got.status_code, text=got.text + request.content.decode())

    named = revoke.Case(path_parameters={"pass_id": "0"}, body={"reason": "a long made-up reason"})
    repeated = _send(Repeating(fuzz_hub.client), named, {})  # type: ignore[arg-type]
    assert _echoes(Repeating(fuzz_hub.client), named, {}, repeated) == ["a long made-up reason"]  # type: ignore[arg-type]
