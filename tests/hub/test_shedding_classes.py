"""Load shedding refuses no handful (hub/middleware.py, docs/deploy.md): people's requests are not
refused while the hub can serve them within their wait, bulk work yields first, LINE's webhooks are
never shed."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hub.core.config import Settings
from hub.middleware import Kind, LoadShedding, kind_of
from tests.hub.hubkit import Hub
from tests.hub.test_health_metrics import _client, _Gate


def _scope(path: str, query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "path": path, "query_string": query}


def test_requests_are_classed_by_who_waits_for_them() -> None:
    assert kind_of(_scope("/console/login")) is Kind.INTERACTIVE
    assert kind_of(_scope("/liff/api/employees/list")) is Kind.INTERACTIVE
    assert kind_of(_scope("/v/ABC123")) is Kind.INTERACTIVE
    assert kind_of(_scope("/api/v1/auth/login")) is Kind.INTERACTIVE
    assert kind_of(_scope("/api/v1/trust/bundle")) is Kind.API
    assert kind_of(_scope("/api/v1/scans/batches")) is Kind.BULK
    assert kind_of(_scope("/api/v1/queries/passes", b"since=1&format=xlsx")) is Kind.BULK
    assert kind_of(_scope("/api/v1/queries/passes", b"format=json")) is Kind.API
    assert kind_of(_scope("/console/queries", b"kind=checks&format=csv")) is Kind.BULK
    assert kind_of(_scope("/console/audit.csv")) is Kind.BULK
    for never in ("/healthz", "/readyz", "/metrics", "/line/enterprise/webhook", "/line/police/webhook"):
        assert kind_of(_scope(never)) is None


def test_eight_concurrent_password_logins_on_an_idle_hub_are_none_shed(
    client: TestClient, hub: Hub, settings: Settings
) -> None:
    # the shipped limits: 4 running, programs wait 100 ms; each login is a deliberate argon2id hash
    assert (settings.max_running, settings.max_queue_wait_ms) == (4, 100)
    mobile = "+886911000001"
    hub.super_admin_token(mobile)
    start = threading.Barrier(8)

    def login(_: int) -> tuple[int, float]:
        start.wait()
        body = {"mobile": mobile, "password": "N3w-password!"}
        t0 = time.monotonic()
        status = client.post("/api/v1/auth/login", json=body).status_code
        return status, time.monotonic() - t0

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(login, range(8)))
    print("eight logins (status, seconds):", answers)
    assert [status for status, _ in answers] == [200] * 8


def test_under_overload_bulk_is_refused_before_people_who_go_first() -> None:
    gate = _Gate()
    app = LoadShedding(gate, max_in_flight=10, max_running=1, max_wait=5.0)

    async def scenario() -> dict[str, httpx.Response]:
        async with _client(app) as client:
            tasks = {"a": asyncio.create_task(client.get("/api/v1/passes/a"))}
            await gate.until_started(1)
            for name in ("b", "c"):  # two programs wait their turn
                tasks[name] = asyncio.create_task(client.get(f"/api/v1/passes/{name}"))
                await asyncio.sleep(0.01)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            bulk = await client.post("/api/v1/scans/batches")
            assert loop.time() - t0 < 1.0  # refused at once, not after its wait
            tasks["console"] = asyncio.create_task(client.get("/console/console"))
            await asyncio.sleep(0.01)
            webhook = asyncio.create_task(client.post("/line/enterprise/webhook"))  # never shed
            await gate.until_started(2)
            for name in ("a", "webhook", "console", "b", "c"):
                gate.let_go(name)
            answers = {name: await task for name, task in tasks.items()}
            return {"bulk": bulk, "webhook": await webhook, **answers}

    answers = asyncio.run(scenario())
    assert answers["bulk"].status_code == 503 and answers["bulk"].headers["retry-after"] == "1"
    assert {name: r.status_code for name, r in answers.items() if name != "bulk"} == dict.fromkeys(
        ("webhook", "a", "b", "c", "console"), 200
    )
    # the person's request came after the programs' but ran before them; the webhook ran beside
    assert [name for name in gate.started if name != "webhook"] == ["a", "console", "b", "c"]
    assert (app.running, app.in_flight) == (0, 0)


def test_a_request_is_refused_at_once_when_the_measured_work_ahead_outlasts_its_wait() -> None:
    gate = _Gate()
    app = LoadShedding(gate, max_in_flight=20, max_running=1, max_wait=0.1, interactive_wait=0.5)

    async def scenario() -> tuple[list[int], float]:
        async with _client(app) as client:
            first = asyncio.create_task(client.get("/console/p0"))
            await gate.until_started(1)
            await asyncio.sleep(0.2)  # a console page that holds its slot for 0.2 s
            gate.let_go("p0")
            await first
            assert 0.15 < app.held[Kind.INTERACTIVE] < 1.0
            # The wait a person's request may take, from the hold as measured: a busy machine sleeps
            # longer than asked, and 0.2 s measured as 0.26 s must not turn "within" into "beyond".
            app.interactive_wait = 2.5 * app.held[Kind.INTERACTIVE]
            held = asyncio.create_task(client.get("/console/p1"))
            await gate.until_started(2)
            waiting = []
            for name in ("p2", "p3"):  # one and two holds of work ahead: within the 2.5 holds' wait
                waiting.append(asyncio.create_task(client.get(f"/console/{name}")))
                await asyncio.sleep(0.01)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            refused = await client.get("/console/p4")  # three holds ahead: told at once
            took = loop.time() - t0
            for name in ("p1", "p2", "p3"):
                gate.let_go(name)
            return [r.status_code for r in (await held, *(await asyncio.gather(*waiting)), refused)], took

    statuses, took = asyncio.run(scenario())
    assert statuses == [200, 200, 200, 503]
    assert took < 0.3
