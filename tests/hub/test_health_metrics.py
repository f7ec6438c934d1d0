"""Liveness, readiness, Prometheus metrics and load shedding (hub.health, hub.metrics, hub.middleware)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hub.main import create_app
from hub.middleware import LoadShedding


def _sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name:
            got = ",".join(sorted((match[2] or "").split(","))) if match[2] else ""
            if got == wanted:
                return float(match[3])
    return 0.0


def test_ready_when_database_and_trust_data_are_good(client: TestClient, keys_dir: Any) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["ready"] is True and body["trust"] == "ok" and body["active_key_listed"] is True
    live = client.get("/healthz")
    assert live.status_code == 200 and live.json()["trust"] == "ok"


def test_not_ready_without_usable_trust_data(settings: Any, keys_dir: Any) -> None:
    """An offline-root hub with no imported bundle: alive, but not to be sent checkpoints' requests."""
    app = create_app(settings.model_copy(update={"root_offline": True}))
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["reason"] == "trust"
        assert ready.json()["trust"] == "missing"
        assert client.get("/healthz").status_code == 200
    app.state.engine.dispose()


def test_not_ready_when_the_database_is_gone(settings: Any, keys_dir: Any, tmp_path: Any) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        # The database stops answering (here: the engine points at a server that is not there).
        from hub.db import make_engine

        app.state.engine.dispose()
        dead = make_engine("postgresql+psycopg://nobody:x@127.0.0.1:9/none?connect_timeout=1")
        app.state.engine = dead
        app.state.sessionmaker.configure(bind=dead)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["reason"] == "database"
        assert client.get("/healthz").status_code == 503
    dead.dispose()


def test_metrics_count_requests_by_route_sms_and_trust_age(
    client: TestClient, keys_dir: Any, hub: Any
) -> None:
    before = client.get("/metrics").text
    for _ in range(3):
        assert client.get("/api/v1/trust/bundle").status_code == 200
    hub.request_code("+886912345678", "footprint")
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    route = {"method": "GET", "route": "/api/v1/trust/bundle", "status": "2xx"}
    name = "checkpass_http_request_duration_seconds_count"
    assert _sample(text, name, **route) - _sample(before, name, **route) == 3
    sms = {"gateway": "file", "outcome": "sent"}
    assert (
        _sample(text, "checkpass_sms_messages_total", **sms)
        - _sample(before, "checkpass_sms_messages_total", **sms)
        == 1
    )
    age = _sample(text, "checkpass_trust_bundle_age_seconds")
    left = _sample(text, "checkpass_trust_bundle_expires_in_seconds")
    assert 0 <= age < 60 and 6 * 86_400 < left <= 7 * 86_400
    # Ids never become labels: one series per route template, whatever the id asked for.
    template = {"method": "GET", "route": "/api/v1/trust/status/{kid}", "status": "4xx"}
    seen = _sample(text, name, **template)  # metrics are per process: earlier tests count too
    assert client.get("/api/v1/trust/status/00000000000000ff").status_code == 404
    text = client.get("/metrics").text
    assert _sample(text, name, **template) == seen + 1
    assert "00000000000000ff" not in text


class _Gate:
    """An app whose requests run until let go, one by one, recording the order they started in."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.go: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        self.started.append(name)
        await self.go.setdefault(name, asyncio.Event()).wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": name.encode()})

    def let_go(self, name: str) -> None:
        self.go.setdefault(name, asyncio.Event()).set()

    async def until_started(self, count: int) -> None:
        while len(self.started) < count:
            await asyncio.sleep(0.001)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


def test_load_shedding_answers_503_at_once_beyond_the_limit() -> None:
    release = asyncio.Event()
    started = 0

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal started
        started += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = LoadShedding(slow_app, max_in_flight=2)

    async def scenario() -> list[httpx.Response]:
        async with _client(app) as client:
            held = [asyncio.create_task(client.get("/api/v1/trust/bundle")) for _ in range(2)]
            while started < 2:
                await asyncio.sleep(0.001)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            shed = [await client.get("/api/v1/passes/x") for _ in range(3)]
            assert loop.time() - t0 < 1.0  # answered at once, not queued behind the slow two
            health = asyncio.create_task(client.get("/healthz"))  # never shed
            while started < 3:
                await asyncio.sleep(0.001)
            release.set()
            return [*(await asyncio.gather(*held)), *shed, await health]

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200, 200, 503, 503, 503, 200]
    assert responses[2].headers["retry-after"] == "1" and responses[2].json()["error"] == "overloaded"
    assert app.in_flight == 0


def test_beyond_the_running_limit_requests_wait_their_turn_in_arrival_order() -> None:
    gate = _Gate()
    app = LoadShedding(gate, max_in_flight=10, max_running=1, max_wait=5.0)

    async def scenario() -> list[str]:
        async with _client(app) as client:
            first = asyncio.create_task(client.get("/api/v1/passes/a"))
            await gate.until_started(1)
            later = []
            for name in "bcd":
                later.append(asyncio.create_task(client.get(f"/api/v1/passes/{name}")))
                await asyncio.sleep(0.01)  # b, c, d arrive in that order
            assert gate.started == ["a"] and app.running == 1 and app.in_flight == 4
            for name in "adcb":  # d and c are let go early: they still wait for their turn
                gate.let_go(name)
            answers = [r.text for r in await asyncio.gather(first, *later)]
            assert answers == ["a", "b", "c", "d"]
            return gate.started

    assert asyncio.run(scenario()) == ["a", "b", "c", "d"]
    assert (app.running, app.in_flight) == (0, 0)


def test_a_request_that_waits_too_long_for_its_turn_gets_a_fast_503() -> None:
    gate = _Gate()
    app = LoadShedding(gate, max_in_flight=10, max_running=1, max_wait=0.05)

    async def scenario() -> tuple[httpx.Response, httpx.Response, float]:
        async with _client(app) as client:
            held = asyncio.create_task(client.get("/api/v1/passes/a"))
            await gate.until_started(1)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            late = await client.get("/api/v1/passes/b")
            waited = loop.time() - t0
            gate.let_go("a")
            return await held, late, waited

    held, late, waited = asyncio.run(scenario())
    assert held.status_code == 200
    assert late.status_code == 503 and late.json()["error"] == "overloaded"
    assert late.headers["retry-after"] == "1"
    assert 0.04 <= waited < 1.0  # it waited its bounded turn, then was answered, not queued on
    assert gate.started == ["a"]  # the late request never ran
    assert (app.running, app.in_flight) == (0, 0)


def test_a_client_that_leaves_while_waiting_frees_its_place() -> None:
    gate = _Gate()
    app = LoadShedding(gate, max_in_flight=10, max_running=1, max_wait=5.0)

    async def scenario() -> list[str]:
        async with _client(app) as client:
            first = asyncio.create_task(client.get("/api/v1/passes/a"))
            await gate.until_started(1)
            gone = asyncio.create_task(client.get("/api/v1/passes/b"))
            await asyncio.sleep(0.01)
            gone.cancel()  # the client hung up while waiting its turn
            await asyncio.gather(gone, return_exceptions=True)
            after = asyncio.create_task(client.get("/api/v1/passes/c"))
            await asyncio.sleep(0.01)
            gate.let_go("a")
            gate.let_go("c")
            return [r.text for r in await asyncio.gather(first, after)]

    assert asyncio.run(scenario()) == ["a", "c"]
    assert gate.started == ["a", "c"]
    assert (app.running, app.in_flight) == (0, 0)


def test_a_database_that_refuses_connections_is_a_fast_503_not_a_500() -> None:
    from sqlalchemy.exc import OperationalError

    async def no_database(scope: Any, receive: Any, send: Any) -> None:
        raise OperationalError("SELECT 1", {}, Exception("sorry, too many clients already"))

    app = LoadShedding(no_database, max_in_flight=10)

    async def call() -> httpx.Response:
        async with _client(app) as client:
            return await client.get("/api/v1/passes/x")

    response = asyncio.run(call())
    assert response.status_code == 503 and response.json()["error"] == "database_unavailable"
    assert response.headers["retry-after"] == "1" and app.in_flight == 0


def test_a_line_webhook_never_shed_still_gets_a_503_when_the_database_is_down() -> None:
    """LINE's webhooks skip the line but not the database: storing an event while PostgreSQL restarts
    is a 503 with Retry-After that LINE can redeliver, not a 500 (found by deploy/rehearsal/field.py)."""
    from sqlalchemy.exc import OperationalError

    async def no_database(scope: Any, receive: Any, send: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("the database system is shutting down"))

    app = LoadShedding(no_database, max_in_flight=10)

    async def call() -> httpx.Response:
        async with _client(app) as client:
            return await client.post("/line/enterprise/webhook", content=b"{}")

    response = asyncio.run(call())
    assert response.status_code == 503 and response.json()["error"] == "database_unavailable"
    assert response.headers["retry-after"] == "1"


def test_the_thread_pool_holds_every_request_load_shedding_lets_in(settings, keys_dir):
    """With fewer threads than admitted requests, requests waiting for SQLite's write lock could take every
    thread while the lock's holder waits for one to commit (hub.main's lifespan)."""
    import anyio.to_thread

    from hub.main import THREADS_BEYOND_SHEDDING

    settings = settings.model_copy(update={"max_in_flight": 120})
    app = create_app(settings)
    with TestClient(app) as client:
        tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert client.get("/healthz").status_code == 200
    app.state.engine.dispose()
    assert tokens >= 120 + THREADS_BEYOND_SHEDDING
