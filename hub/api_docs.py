"""The interactive API documentation at /docs, with Swagger UI served by the hub itself.

FastAPI's default /docs page loads Swagger UI's script and stylesheet from a CDN, so on a hub without
internet access (a police network, a demo laptop offline) the page stays blank. The hub ships the
files (hub/static/swagger_ui/, from the npm package swagger-ui-dist, Apache-2.0, licence alongside)
and the page refers to nothing outside the hub: no CDN, no favicon from elsewhere, and no online
validator badge. /redoc, which FastAPI would also load from a CDN, is not offered.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from hub.middleware import allow_inline_script

SWAGGER_UI_VERSION = "5.35.0"
ASSETS_DIR = Path(__file__).with_name("static") / "swagger_ui"
ASSETS_PATH = "/static/swagger-ui"
DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install_api_docs(app: FastAPI) -> None:
    """Serve /docs and its assets from the hub. Build the app with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} - API"

    docs = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
        # The default validator shows a badge fetched from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    ).body
    redirect = get_swagger_ui_oauth2_redirect_html().body
    # Swagger UI starts from an inline script: the page's Content-Security-Policy runs exactly these.
    for path, html in ((DOCS_PATH, docs), (OAUTH2_REDIRECT_PATH, redirect)):
        for script in _INLINE_SCRIPT.findall(bytes(html).decode()):
            allow_inline_script(path, script)

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(docs)

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return HTMLResponse(redirect)
