"""The hub's FastAPI application: `create_app()` builds it from settings (uvicorn: `--factory`)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import Depends, FastAPI, Response

from hub.api.deps import bounded_path_ids
from hub.api_docs import install_api_docs
from hub.context import HubContext, make_sessionmaker
from hub.core.config import Settings, get_settings
from hub.core.logredact import install_access_log_redaction
from hub.db import make_engine
from hub.errors import ERROR_RESPONSES, install_error_handlers
from hub.migrations import upgrade_to_head

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
THREADS_BEYOND_SHEDDING = 8  # health, readiness and metrics are never shed (hub/middleware.py)

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


def _include(app: FastAPI, module_name: str, *, optional: bool) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if optional and exc.name == module_name:
            log.info("router %s not installed", module_name)
            return
        raise
    # Each router straight onto the app under the prefix, not through one /api/v1 router: FastAPI
    # matches nested routers level by level, and that walk was a measurable share of a request.
    app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)


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
        # Enough threads for every request load shedding lets in, plus the never-shed health and metrics
        # routes: a request whose transaction holds SQLite's write lock needs one more thread-pool trip to
        # commit (hub.web.get_db), and if every thread were taken by requests waiting for that lock it would
        # never get one (they would all fail at busy_timeout). hub/middleware.py caps what is let in.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.max_in_flight + THREADS_BEYOND_SHEDDING)
        # Jobs that run once for all workers (retention purge, trust publishing): hub.jobs.runner.
        from hub.jobs.runner import schedule, scheduled_jobs

        jobs = scheduled_jobs(settings)
        task = asyncio.create_task(schedule(sessions, jobs)) if jobs else None
        # Each worker works off the LINE inbox, rows left from before a restart first
        # (hub/jobs/line_inbox.py).
        if app.state.line is not None:
            app.state.line.start()
        try:
            yield
        finally:
            if app.state.line is not None:
                await app.state.line.aclose()
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
        # Ids are bounded where they enter, for every route at once (a huge id is a 404, never a 500).
        dependencies=[Depends(bounded_path_ids)],
    )
    install_api_docs(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.context = context
    app.state.protector = context.protector
    app.state.sessionmaker = sessions
    install_error_handlers(app)
    install_access_log_redaction()  # query strings may hold a mobile or national ID

    for name in _ROUTERS:
        _include(app, name, optional=False)
    for name in _OPTIONAL_ROUTERS:
        _include(app, name, optional=True)

    # Health and readiness next: the load balancer asks them often, and routes are matched in order.
    from hub import health

    app.include_router(health.router)

    # LINE official accounts (hub.line, docs/line.md): only when a channel's secret and token are set.
    # The venue check-in page the venue QR opens (/v/{code}) and the footprint page are always served.
    from hub.line.pages import public_router as line_public_pages

    app.include_router(line_public_pages)
    app.state.line = None
    if settings.line_enabled():
        from hub.line.app import mount

        mount(app, settings, sessions)

    # The web console (issue 9): /console/, its own refusal pages and security headers.
    from hub.console import install as install_console

    install_console(app)

    # ---- scale (docs/deploy.md): health, readiness, metrics; middleware as plain ASGI -------------
    from hub import metrics
    from hub.middleware import BodySizeLimit, LoadShedding, RequestMetrics, SecurityHeaders, TrustedProxies

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        def served() -> tuple[int, int] | None:
            with sessions() as db:
                return health.served_validity(db)

        body, content_type = metrics.render(served)
        return Response(body, media_type=content_type)

    # The last added runs first: metrics time shed and refused requests too; shedding comes before
    # any work, the size check inside it; the pages' security headers innermost, on every HTML answer.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)
    app.add_middleware(
        LoadShedding,
        max_in_flight=settings.max_in_flight,
        max_running=settings.max_running,
        max_wait=settings.max_queue_wait_ms / 1000,
    )
    app.add_middleware(RequestMetrics)
    # Outermost: who sent the request and over what is settled before anything reads it.
    app.add_middleware(TrustedProxies)
    # ---- end scale -----------------------------------------------------------------------------------

    return app


def create_worker_app() -> FastAPI:
    """One of `checkpass hub serve --workers N`'s workers: settings from the environment, database
    already migrated by the supervisor before it started the workers."""
    return create_app(migrate=False)
