"""The public documents' routes do their database work in one thread-pool trip (hub.web.in_one_trip),
the session committed and closed in it: what checkpoints poll costs one hand-over between the event
loop and a thread, not two. The answers themselves (200, 304, deltas) are tests/hub/test_passes.py's."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to the thread pool (starlette's run_in_threadpool uses anyio's)."""
    sent: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return sent


def test_a_conditional_get_is_one_trip(keys_dir: Any, client: TestClient, app: Any, trips: list[str]) -> None:
    bundle = client.get("/api/v1/trust/bundle")
    assert bundle.status_code == 200
    kid = app.state.context.keystore.active_kid().hex()
    status = client.get(f"/api/v1/trust/status/{kid}")
    assert status.status_code == 200
    trips.clear()
    unchanged = client.get("/api/v1/trust/bundle", headers={"If-None-Match": bundle.headers["etag"]})
    assert unchanged.status_code == 304 and not unchanged.content
    assert len(trips) == 1, trips
    unchanged = client.get(f"/api/v1/trust/status/{kid}", headers={"If-None-Match": status.headers["etag"]})
    assert unchanged.status_code == 304 and not unchanged.content
    assert len(trips) == 2, trips


def test_refusals_inside_the_trip(keys_dir: Any, client: TestClient, app: Any) -> None:
    bad = client.get("/api/v1/trust/status/XYZ")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_kid"
    unknown = client.get("/api/v1/trust/status/" + "0" * 16)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_key"
    assert app.state.engine.pool.checkedout() == 0
