"""The web console (WEB 管理系統) at /console/: server-rendered pages over the hub's services.

`install(app)` mounts it: the pages, the static assets (vendored htmx, our CSS) and the refusal pages
(security headers: hub.middleware.SecurityHeaders, for every page of the hub). See docs/console.md
for the decisions.
"""

from __future__ import annotations

from fastapi import FastAPI
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
    # Each page router straight onto the app: through one /console router FastAPI built every route
    # twice, and that was most of the time an app took to start (every test starts one).
    for pages in (
        pages_auth,
        pages_admin,
        pages_data,
        pages_ops,
        pages_enterprises,
        pages_review,
        pages_rosters,
        pages_privacy,
    ):
        app.include_router(pages.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    install_error_pages(app)
