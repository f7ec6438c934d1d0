"""The hub's FastAPI application: `create_app()` builds it from settings (uvicorn: `--factory`)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hub.api_docs import install_api_docs
from hub.context import HubContext, make_sessionmaker
from hub.core.config import Settings, get_settings
from hub.core.logredact import install_access_log_redaction
from hub.db import make_engine
from hub.errors import ERROR_RESPONSES, install_error_handlers
from hub.migrations import upgrade_to_head
from hub.services.trust import trust_health

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

# Our routers, in the order they appear in the OpenAPI document.
_ROUTERS = (
    "hub.api.routes.auth",
    "hub.api.routes.admins",
    "hub.api.routes.stations",
    "hub.api.routes.rosters",
    "hub.api.routes.enterprises",
    "hub.api.routes.passes",
    "hub.api.routes.trust",
    "hub.api.routes.venues",
    "hub.api.routes.queries",
    "hub.api.routes.audit",
)
# Routers of the devices part: included when that part is installed.
_OPTIONAL_ROUTERS = ("hub.api.routes.devices", "hub.api.routes.officers_device", "hub.api.routes.scans")


def _include(api: APIRouter, module_name: str, *, optional: bool) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if optional and exc.name == module_name:
            log.info("router %s not installed", module_name)
            return
        raise
    api.include_router(module.router)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """Build the app. `migrate`: bring the database to the newest schema first (idempotent)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.database_echo)
    if migrate:
        upgrade_to_head(engine)
    context = HubContext.from_settings(settings)
    sessions = make_sessionmaker(engine, context)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if settings.purge_interval_seconds > 0:
            task = asyncio.create_task(_purge_periodically(app))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="Checkpass hub",
        version="0.1.0",
        description="Traffic-control passes: identity, organisations, rosters, passes, venues, "
        "checkpoints, queries. Personal data is masked unless a permission allows otherwise.",
        lifespan=lifespan,
        docs_url=None,  # /docs with Swagger UI served by the hub: hub/api_docs.py
        redoc_url=None,  # ReDoc would load from a CDN
    )
    install_api_docs(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.context = context
    app.state.protector = context.protector
    app.state.sessionmaker = sessions
    install_error_handlers(app)
    install_access_log_redaction()  # query strings may hold a mobile or national ID
    app.middleware("http")(_limit_body_size(settings.max_upload_bytes))

    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for name in _ROUTERS:
        _include(api, name, optional=False)
    for name in _OPTIONAL_ROUTERS:
        _include(api, name, optional=True)
    app.include_router(api)

    # The web console (issue 9): /console/, its own refusal pages and security headers.
    from hub.console import install as install_console

    install_console(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str | int | None]:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        # The trust bundle's remaining validity is here too, so the monitoring that watches the hub
        # sees an expiring bundle before checkpoints start flagging verdicts STALE.
        with sessions() as db:
            trust = trust_health(db)
        return {
            "status": "ok",
            "database": engine.dialect.name,
            "trust": trust.state,
            "trust_expires_in_s": trust.expires_in_s,
        }

    return app


def _limit_body_size(
    limit: int,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Refuse bodies over `limit` bytes before reading them (413), so an upload cannot exhaust memory."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                return JSONResponse({"error": "bad_request", "detail": "bad Content-Length"}, status_code=400)
            if too_big:
                return JSONResponse(
                    {"error": "too_large", "detail": f"request body over {limit} bytes"}, status_code=413
                )
        return await call_next(request)

    return middleware


async def _purge_periodically(app: FastAPI) -> None:
    """The scheduled retention purge; also `checkpass hub purge`. Runs in a thread: the DB calls block."""
    from hub.services.retention import purge_expired
    from hub.services.unit_of_work import unit_of_work

    interval = app.state.settings.purge_interval_seconds
    while True:
        try:
            with unit_of_work(app.state.sessionmaker) as db:
                await asyncio.to_thread(purge_expired, db)
        except Exception:  # a failed purge must not kill the app; it is retried next round
            log.exception("scheduled retention purge failed")
        await asyncio.sleep(interval)
