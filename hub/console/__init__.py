"""The web console (WEB 管理系統) at /console/: server-rendered pages over the hub's services.

`install(app)` mounts it: the pages, the static assets (vendored htmx, our CSS) and the refusal pages
(security headers: hub.middleware.SecurityHeaders, for every page of the hub). See docs/console.md
for the decisions.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from hub.console import (
    pages_admin,
    pages_auth,
    pages_data,
    pages_enterprises,
    pages_ops,
    pages_privacy,
    pages_review,
    pages_rosters,
)
from hub.console.web import HERE, PREFIX, install_error_pages


def install(app: FastAPI) -> None:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    router.include_router(pages_auth.router)
    router.include_router(pages_admin.router)
    router.include_router(pages_data.router)
    router.include_router(pages_ops.router)
    router.include_router(pages_enterprises.router)
    router.include_router(pages_review.router)
    router.include_router(pages_rosters.router)
    router.include_router(pages_privacy.router)
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    install_error_pages(app)
