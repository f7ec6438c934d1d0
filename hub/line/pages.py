"""The LIFF pages the hub serves (phone-sized, no asset from a CDN): the police scan page, the venue check-in
the venue QR leads to (`/v/{code}`, in LINE and in any phone browser) and the 28-day footprint.

Their words are the message catalogue's (docs/i18n.md, "LIFF pages"): zh-TW unless the phone's browser
prefers English to Chinese (`Accept-Language`, which LINE's in-app browser sends from the phone's language).
Templates call `t(key)`; what `static/pages.js` shows comes from the page too, the texts of the keys it
names (literal `t("key")` calls, found in the script once) rendered into its config.

The LIFF SDK is served by the hub too (`/liff/sdk.js`: LINE's SDK, which scripts/bootstrap builds from npm
into `hub/line/static/liff-sdk.js`, see docs/line.md); without it the pages fall back to the browser flow.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from hub.core.config import Settings
from hub.errors import language_of
from hub.i18n import catalogue
from hub.line.liff_whitelists import EMPLOYEE_PAGE, ROSTER_PAGE, LiffWhitelist

_HERE = Path(__file__).parent
STATIC = _HERE / "static"
SDK_FILE = STATIC / "liff-sdk.js"
_env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))

# Always on: a venue QR must open whatever the hub's LINE settings.
public_router = APIRouter(tags=["line"], include_in_schema=False)
# Only with LINE configured.
line_router = APIRouter(prefix="/liff", tags=["line"], include_in_schema=False)

_STATIC_TYPES = {"pages.js": "text/javascript", "pages.css": "text/css"}
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


# A key pages.js shows: a literal `t("...")` call (a key built at run time would not be found).
_SCRIPT_KEY = re.compile(r"""\bt\("([a-z0-9_.]+)"[,)]""")


@cache
def script_keys() -> frozenset[str]:
    """The message keys static/pages.js shows, read once from the script the hub serves."""
    return frozenset(_SCRIPT_KEY.findall((STATIC / "pages.js").read_text(encoding="utf-8")))


def _page(request: Request, template: str, title_key: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the language of the request, titled by `title_key`; its script's words in `config`."""
    language = language_of(request)

    def t(key: str, **values: object) -> str:
        return catalogue.text(language, key, **values)

    config = context.pop("config", {})
    config.update(lang=language, words={key: t(key) for key in sorted(script_keys())})
    html = _env.get_template(template).render(
        t=t, lang=language, title=t(title_key), config=config, **context
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _liff_id(settings: Settings, which: str) -> str | None:
    if not settings.line_enabled():
        return None
    return settings.liff_id_police if which == "police" else settings.liff_id_enterprise


def _liff_page(request: Request, channel: str, page: str, title_key: str) -> HTMLResponse:
    """A LIFF page of `channel`: its template `{page}.html`, told which LIFF app it runs in."""
    config = {"page": page, "liffId": _liff_id(request.app.state.settings, channel)}
    template = f"{page}.html"
    return _page(request, template, title_key, config=config)


@public_router.get("/liff/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC_TYPES:
        return Response(status_code=404)
    return FileResponse(STATIC / name, media_type=_STATIC_TYPES[name], headers={"Cache-Control": "no-cache"})


@public_router.get("/liff/sdk.js")
def liff_sdk() -> Response:
    if not SDK_FILE.is_file():
        return Response(
            "/* LIFF SDK not installed on this hub: see docs/line.md */",
            status_code=404,
            media_type="text/javascript",
        )
    return FileResponse(SDK_FILE, media_type="text/javascript")


@public_router.get("/v/{code}")
def venue_page(code: str, request: Request) -> HTMLResponse:
    from hub.errors import HubError
    from hub.services import venues
    from hub.services.errors import DomainError

    settings: Settings = request.app.state.settings
    config: dict[str, Any] = {"page": "venue", "liffId": _liff_id(settings, "enterprise"), "venueCode": None}
    db: Session
    with request.app.state.sessionmaker() as db:
        try:
            venue, org = venues.lookup_venue(db, code[:32])
        except (HubError, DomainError):
            return _page(request, "venue.html", "liff.title.venue", 404, config=config, venue=None)
        config["venueCode"] = venue.code
        return _page(
            request,
            "venue.html",
            "liff.title.venue",
            config=config,
            venue=venue.name,
            organisation=org.name,
        )


@public_router.get("/liff/footprint")
def footprint_page(request: Request) -> HTMLResponse:
    return _liff_page(request, "enterprise", "footprint", "liff.title.footprint")


@line_router.get("/police/scan")
def scan_page(request: Request) -> HTMLResponse:
    return _liff_page(request, "police", "scan", "liff.title.scan")


@line_router.get("/enterprise/register")
def register_page(request: Request) -> HTMLResponse:
    return _liff_page(request, "enterprise", "register", "liff.title.register")


@line_router.get("/{channel}/venues")
def venues_page(channel: str, request: Request) -> HTMLResponse:
    which = "police" if channel == "police" else "enterprise"
    return _liff_page(request, which, "venues", "liff.title.venues")


def _whitelist_page(request: Request, page: LiffWhitelist) -> HTMLResponse:
    """A whitelist's LIFF page: its fields and their labels come from the kind (`page_context`), for the
    template's inputs and the script's rows alike."""
    context = page.page_context(language_of(request))
    config = {"page": page.page, "liffId": _liff_id(request.app.state.settings, page.channel), **context}
    who = f"liff.whitelist.{page.kind.plural}.who"
    return _page(request, f"{page.page}.html", f"liff.title.{page.page}", config=config, who=who, **context)


@line_router.get("/enterprise/employees")
def employees_page(request: Request) -> HTMLResponse:
    return _whitelist_page(request, EMPLOYEE_PAGE)


@line_router.get("/enterprise/pass")
def pass_page(request: Request) -> HTMLResponse:
    return _liff_page(request, "enterprise", "pass", "liff.title.pass")


@line_router.get("/police/register")
def station_register_page(request: Request) -> HTMLResponse:
    return _liff_page(request, "police", "station", "liff.title.station")


@line_router.get("/police/roster")
def roster_page(request: Request) -> HTMLResponse:
    return _whitelist_page(request, ROSTER_PAGE)
