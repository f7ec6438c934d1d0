"""A request's database work runs in one thread-pool trip (hub.api.routing.OneTripRoute), the session
committed and closed in it: what checkpoints poll, and every plain REST endpoint, costs one hand-over
between the event loop and a thread. The answers themselves (200, 304, deltas) are
tests/hub/test_passes.py's."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel

from hub.api.deps import CurrentUser, ScopeDep
from hub.api.routing import APIRouter
from hub.services import audit
from hub.services.errors import NotAllowed
from hub.web import SessionDep
from tests.hub.hubkit import bearer


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


# ---- REST routes: a plain `def` endpoint is one trip (hub.api.routing.OneTripRoute) -----------------


class Written(BaseModel):
    action: str


async def gate(_user: CurrentUser) -> int:
    """Asks for the caller and keeps it to itself."""
    return 1


def _probe_router() -> Any:
    """Routes of the hub's own kind (its APIRouter, its session and caller dependencies) that write an
    audit row and then answer or refuse: what every REST endpoint does, without one endpoint's rules."""
    router = APIRouter()

    @router.post("/probe/write", response_model=Written)
    def write(scope: ScopeDep, db: SessionDep) -> Written:
        audit.record(db, "probe.write", actor=scope.user)
        return Written(action="probe.write")

    @router.post("/probe/refuse")
    def refuse(scope: ScopeDep, db: SessionDep) -> None:
        audit.record(db, "probe.refuse", actor=scope.user)
        db.flush()  # written to the database, then refused: the rollback must take it back
        raise NotAllowed("probe")

    @router.get("/probe/gated")
    def gated(opened: Annotated[int, Depends(gate)]) -> dict[str, int]:
        return {"opened": opened}

    return router


@pytest.fixture
def probed(app: Any) -> Any:
    app.include_router(_probe_router())
    return app


def _actions(db: Any) -> list[str]:
    from sqlalchemy import select

    from hub.models.audit import AuditEvent

    db.rollback()  # a fresh read of what the requests committed
    try:
        return list(db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("probe.%"))))
    finally:
        db.close()  # its connection back: the pool's count is the requests' alone


def test_an_authenticated_write_is_one_trip_and_is_committed(
    probed: Any, client: TestClient, hub: Any, super_admin_token: str, trips: list[str]
) -> None:
    trips.clear()
    written = client.post("/probe/write", headers=bearer(super_admin_token))
    assert written.status_code == 200 and written.json() == {"action": "probe.write"}
    # The token's lookup, the endpoint, the answer's check and the commit: all in the same trip.
    assert len(trips) == 1, trips
    assert _actions(hub.db) == ["probe.write"]
    assert probed.state.engine.pool.checkedout() == 0
    # The same with a real route: a pass-register read by a hub admin.
    trips.clear()
    assert client.get("/api/v1/admins", headers=bearer(super_admin_token)).status_code == 200
    assert len(trips) == 1, trips


def test_a_refusal_in_the_trip_takes_back_what_it_wrote(
    probed: Any, client: TestClient, hub: Any, super_admin_token: str, trips: list[str]
) -> None:
    for _ in range(2):  # a double tap: the second refusal as clean as the first
        refused = client.post("/probe/refuse", headers=bearer(super_admin_token))
        assert refused.status_code == 403, refused.text
    assert _actions(hub.db) == []
    assert probed.state.engine.pool.checkedout() == 0
    # A success after the refusals is stored as usual.
    assert client.post("/probe/write", headers=bearer(super_admin_token)).status_code == 200
    assert _actions(hub.db) == ["probe.write"]


def test_a_caller_check_a_dependency_keeps_to_itself_still_runs(
    probed: Any, client: TestClient, hub: Any, super_admin_token: str
) -> None:
    assert client.get("/probe/gated").status_code == 401  # no token at all
    assert client.get("/probe/gated", headers=bearer("x" * 43)).status_code == 401  # garbage
    assert client.get("/probe/gated", headers=bearer(super_admin_token[:-1])).status_code == 401  # truncated
    # A temporary password: the "change it first" check is asked for by `gate` only, and still refuses.
    made = {"mobile": "+886911000002", "name": "一般管理者", "permissions": []}
    assert client.post("/api/v1/admins", json=made, headers=bearer(super_admin_token)).status_code == 201
    pending = hub.password_login("+886911000002", hub.sms.initial_password("+886911000002"))
    refused = client.get("/probe/gated", headers=bearer(pending["token"]))
    assert refused.status_code == 403 and refused.json()["error"] == "password_change_required", refused.text
    assert client.get("/probe/gated", headers=bearer(super_admin_token)).json() == {"opened": 1}


def test_an_async_endpoint_cannot_take_the_caller() -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="plain def"):

        @router.get("/probe/async")
        async def read(scope: ScopeDep) -> dict[str, str]:  # would get the unresolved caller
            return {}
