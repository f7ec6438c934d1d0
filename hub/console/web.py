"""The console's web layer: cookies, CSRF, Origin, templates, refusals as pages (security headers:
hub.middleware.SecurityHeaders).

Pages live in `hub.console.pages_*`; each calls the services with the logged-in user and renders the
answer or the refusal. Decisions are in docs/console.md.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from hub.console import i18n, intents, sessions
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.errors import HubError, http_status_of
from hub.models.console import ConsoleIntent, ConsoleSession
from hub.models.identity import Role, User
from hub.services import errors as domain
from hub.services.scope import Scope, effective_permissions, has_permission, is_hub_admin

PREFIX = "/console"
SESSION_COOKIE = "checkpass_console"
ANONYMOUS_COOKIE = "checkpass_console_form"  # the CSRF token of forms shown before login
LANGUAGE_COOKIE = "checkpass_lang"
TAIPEI = ZoneInfo("Asia/Taipei")  # every time a person reads in the console is Taipei time
HERE = Path(__file__).parent

templates = Jinja2Templates(directory=str(HERE / "templates"))  # .html: autoescaped


def taipei(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(TAIPEI).strftime(fmt)


templates.env.filters["taipei"] = taipei


def as_json(value: object) -> str:
    """Readable JSON (Chinese as itself); plain text, so the template escapes it like any other."""
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


templates.env.filters["as_json"] = as_json


def epoch_taipei(value: int | None) -> str:
    return taipei(dt.datetime.fromtimestamp(value, dt.UTC)) if value else ""


templates.env.filters["epoch_taipei"] = epoch_taipei

_TIME_COLUMNS = {"issued_at", "not_before", "expires_at", "revoked_at", "scanned_at", "visited_at"}


def cell(value: object, column: str) -> str:
    """A register cell as a person reads it: times in Taipei (the JSON holds UTC ISO 8601)."""
    if value is None:
        return ""
    if column in _TIME_COLUMNS and isinstance(value, str):
        try:
            return taipei(dt.datetime.fromisoformat(value), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    return str(value)


templates.env.filters["cell"] = cell


@dataclass
class Page:
    """What a console request knows: who asks (if anyone), the form token, the language."""

    request: Request
    db: Any
    user: User | None = None
    session: ConsoleSession | None = None
    csrf: str = ""
    language: str = i18n.DEFAULT_LANGUAGE
    new_anonymous_token: str | None = None
    flashes: list[str] = field(default_factory=list)
    intent: ConsoleIntent | None = None  # this POST's claimed form submission (hub.console.intents)
    posted: FormData | None = None  # this POST's checked form

    def typed(self, action: str, name: str) -> str:
        """What was typed into field `name` of the form posted to `action`: a refused form shows it again
        (the person's own input on their own screen; never in a message)."""
        if self.posted is None or self.request.url.path != action:
            return ""
        value = self.posted.get(name)
        return value if isinstance(value, str) else ""

    def typed_list(self, action: str, name: str) -> list[str]:
        """The boxes ticked in field `name` of the form posted to `action` (see `typed`)."""
        if self.posted is None or self.request.url.path != action:
            return []
        return [v for v in self.posted.getlist(name) if isinstance(v, str)]

    def t(self, key: str, **values: object) -> str:
        return i18n.translate(self.language, key, **values)

    def queue_lag(self, waiting: int | None, oldest_age_s: int | None) -> str:
        """A device's reported upload queue in words (hub.console.i18n.queue_lag)."""
        return i18n.queue_lag(self.language, waiting, oldest_age_s)

    @property
    def scope(self) -> Scope:
        """The caller as every service takes it (hub.services.scope), with the request's address."""
        assert self.user is not None
        return Scope.of(self.user, self.request.client.host if self.request.client else None)

    def can(self, permission: Permission | str) -> bool:
        return self.user is not None and has_permission(self.user, permission)

    def form_tokens(self) -> Markup:
        """The hidden fields every POST form carries: the CSRF token and a one-time intent token."""
        return Markup(
            f'<input type="hidden" name="csrf" value="{escape(self.csrf)}">'
            f'<input type="hidden" name="{intents.FIELD}" value="{intents.new_token()}">'
        )

    def done_message(self) -> str | None:
        """What the action before the redirect did, from the `done` key it put in the URL (`redirect`)."""
        done = self.request.query_params.get("done", "")
        key = f"done.{done}"
        if not done or key not in i18n.MESSAGES:
            return None
        n = self.request.query_params.get("n", "")
        return self.t(key, n=int(n) if n.isdigit() and len(n) < 7 else 0)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        if self.intent is not None:
            # A page, not a redirect: nothing a repeat must not do again (a refusal, a confirmation step).
            intents.release(self.db, self.intent)
            self.intent = None
        if context.get("message") is None and self.request.method == "GET":
            context["message"] = self.done_message()
        response = templates.TemplateResponse(
            self.request,
            template,
            {"page": self, "t": self.t, "menu": menu(self), **context},
            status_code=status_code,
        )
        self.set_cookies(response)
        return response

    def redirect(self, path: str, done: str | None = None, n: int | None = None) -> RedirectResponse:
        """Post, redirect, get; `done` names what happened (a `done.*` message the next page shows)."""
        if done is not None:
            query = {"done": done} if n is None else {"done": done, "n": str(n)}
            path = f"{path}{'&' if '?' in path else '?'}{urlencode(query)}"
        if self.intent is not None:
            intents.answered(self.intent, path)  # a repeat of this submission answers the same
        response = RedirectResponse(path, status_code=303)
        self.set_cookies(response)
        return response

    def set_cookies(self, response: Response) -> None:
        if self.new_anonymous_token is not None:
            set_cookie(self.request, response, ANONYMOUS_COOKIE, self.new_anonymous_token, max_age=3600)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",  # behind https (uvicorn's proxy headers give the scheme)
    )


def _language(request: Request) -> str:
    wanted = request.cookies.get(LANGUAGE_COOKIE)
    return wanted if wanted in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def get_page(request: Request, db: SessionDep) -> Page:
    page = Page(request=request, db=db, language=_language(request))
    found = sessions.find(db, request.cookies.get(SESSION_COOKIE))
    if found is not None:
        page.session, page.user = found
        page.csrf = page.session.csrf_token
    else:
        # Only a token this hub issued (its keyed MAC holds): a cookie planted in the browser, posted
        # back with the same field, is not one (docs/console.md).
        protector = request.app.state.protector
        token = request.cookies.get(ANONYMOUS_COOKIE)
        if not token or not protector.issued_form_token(token):
            token = protector.new_form_token()
            page.new_anonymous_token = token
        page.csrf = token
    return page


AnyPage = Annotated[Page, Depends(get_page)]


class LoginRequired(Exception):
    """No live session: the browser goes to the login page."""


class PasswordChangeRequired(Exception):
    """An initial password is still in use: nothing but changing it."""


class AlreadyAnswered(Exception):
    """This form submission was handled before: answer as the first time, do nothing."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class Refused(Exception):
    """A console-level refusal (bad form token, hidden page) shown as a page with this status."""

    def __init__(self, status_code: int, message_key: str) -> None:
        super().__init__(message_key)
        self.status_code = status_code
        self.message_key = message_key


def get_pending_user(page: AnyPage) -> Page:
    """Logged in, initial password possibly still to change (the password page and logout only)."""
    if page.user is None:
        raise LoginRequired()
    return page


def get_user(page: Annotated[Page, Depends(get_pending_user)]) -> Page:
    assert page.user is not None
    if page.user.must_change_password:
        raise PasswordChangeRequired()
    return page


UserPage = Annotated[Page, Depends(get_user)]
PendingPage = Annotated[Page, Depends(get_pending_user)]


def needs(*permissions: Permission) -> Callable[[Page], Page]:
    """The page for users holding any of `permissions`; others get 403 even when they know the URL."""

    def dependency(page: UserPage) -> Page:
        if not any(page.can(p) for p in permissions):
            raise Refused(403, "error.forbidden")
        return page

    return dependency


def needs_hub_admin(page: UserPage) -> Page:
    assert page.user is not None
    if not is_hub_admin(page.user):
        raise Refused(403, "error.forbidden")
    return page


def _same_origin(request: Request) -> bool:
    """The Origin (or, failing that, Referer) header names this very site. Browsers send Origin with every
    POST; a form posted from another site carries that site's origin."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    parts = urlsplit(claimed)
    own = urlsplit(str(request.base_url))
    return (parts.scheme, parts.netloc) == (own.scheme, own.netloc)


async def checked_form(request: Request, page: AnyPage) -> FormData:
    """The posted form, once its CSRF token (field `csrf` or header X-CSRF-Token) and origin check out."""
    form = await request.form()
    sent = form.get("csrf") or request.headers.get("x-csrf-token") or ""
    if (
        not isinstance(sent, str)
        or not page.csrf
        or page.new_anonymous_token is not None  # a token we did not hand out
        or not hmac.compare_digest(sent.encode(), page.csrf.encode())
        or not _same_origin(request)
    ):
        raise Refused(403, "error.csrf")
    page.posted = form
    token = form.get(intents.FIELD)
    if page.session is not None and intents.well_formed(token):
        assert isinstance(token, str)
        try:
            claimed = await run_in_threadpool(intents.claim, page.db, page.session, token)
        except intents.Busy:
            raise Refused(409, "error.intent_busy") from None
        if isinstance(claimed, str):
            raise AlreadyAnswered(claimed)
        page.intent = claimed
    return form


def confirm_first(page: Page, form: FormData, *, question: str, back: str) -> Response | None:
    """An irreversible action asks first. Without `confirmed` in the form the answer is a page saying what
    will happen, with the same form (same fields, same intent token) to confirm it and a link back; no
    JavaScript needed. None: confirmed, go ahead."""
    if form.get("confirmed") == "1":
        return None
    fields = [
        (name, value)
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in ("csrf", "confirmed")
    ]
    return page.render(
        "confirm.html", question=question, action=page.request.url.path, fields=fields, back=back
    )


Form = Annotated[FormData, Depends(checked_form)]


def field_text(form: FormData, name: str, max_length: int = 200) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.strip()[:max_length]


@dataclass(frozen=True)
class MenuItem:
    key: str
    path: str


def menu(page: Page) -> list[MenuItem]:
    """What the signed-in user may open: the same checks the pages make (`needs`)."""
    user = page.user
    if user is None or user.must_change_password:
        return []
    items = [MenuItem("nav.dashboard", f"{PREFIX}/")]
    if page.can(Permission.ADMINS_MANAGE):
        items.append(MenuItem("nav.admins", f"{PREFIX}/admins"))
    if page.can(Permission.STATIONS_MANAGE):
        items.append(MenuItem("nav.stations", f"{PREFIX}/stations"))
    if (is_hub_admin(user) and page.can(Permission.ENTERPRISES_MANAGE)) or Role(
        user.role
    ) is Role.ENTERPRISE_ADMIN:
        items.append(MenuItem("nav.enterprises", f"{PREFIX}/enterprises"))
    if is_hub_admin(user) and page.can(Permission.ENTERPRISES_MANAGE):
        items.append(MenuItem("nav.review", f"{PREFIX}/registrations"))
    if any(page.can(p) for p in QUERY_PERMISSIONS):
        items.append(MenuItem("nav.queries", f"{PREFIX}/queries"))
    if Role(user.role) is Role.STATION_ADMIN and user.org_id is not None:
        items.append(MenuItem("nav.roster", f"{PREFIX}/roster"))  # its own station (hub.services.rosters)
    if page.can(Permission.DEVICES_MANAGE):
        items.append(MenuItem("nav.devices", f"{PREFIX}/devices"))
    if Role(user.role) is Role.SUPER_ADMIN:
        items.append(MenuItem("nav.trust", f"{PREFIX}/trust"))
    if page.can(Permission.AUDIT_READ):
        items.append(MenuItem("nav.audit", f"{PREFIX}/audit"))
    if is_hub_admin(user):
        items.append(MenuItem("nav.support", f"{PREFIX}/support"))
    items.append(MenuItem("nav.account", f"{PREFIX}/account"))
    return items


QUERY_PERMISSIONS = (Permission.QUERY_PASSES, Permission.QUERY_CHECKS)


def permission_names(user: User) -> list[str]:
    return sorted(p.value for p in effective_permissions(user))


# --- refusals as pages -------------------------------------------------------------------------------

_REASON_KEYS = {
    "bad_credentials": "error.bad_credentials",
    "account_locked": "error.account_locked",
    "too_many_failures": "error.too_many",
    "too_many_requests": "error.too_many",
    "forbidden": "error.forbidden",
    "not_found": "error.not_found",
    "no_organisation": "error.no_organisation",
    "station_admin_exists": "error.station_admin_exists",
}


Refusal = (HubError, domain.DomainError)  # what a console handler catches: a service's or a route's refusal


def refusal_status(exc: HubError | domain.DomainError) -> int:
    """The HTTP status a refused console action answers with (the same as the REST API's)."""
    return exc.status_code if isinstance(exc, HubError) else http_status_of(exc)


def refusal_text(page: Page, reason: str, detail: Any) -> str:
    key = _REASON_KEYS.get(reason)
    if key is not None:
        return page.t(key)
    if reason.startswith("code_"):
        return page.t("error.bad_code")
    shown = detail if isinstance(detail, str) else reason
    return page.t("error.generic") + shown


def validation_text(page: Page, exc: ValidationError) -> str:
    """Which fields are wrong and why, never the values typed (they may be personal data)."""
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return page.t("error.generic") + "; ".join(problems)


def _refusal_page(request: Request, status_code: int, message: str) -> Response:
    page = getattr(request.state, "console_page", None)
    if page is None:
        page = Page(request=request, db=None, language=_language(request))
    if request.headers.get("hx-request"):
        return HTMLResponse(f'<p class="error" role="alert">{_escape(message)}</p>', status_code=status_code)
    return page.render("error.html", status_code=status_code, message=message)


def _escape(text: str) -> str:
    return str(escape(text))


def install_error_pages(app: FastAPI) -> None:
    """Refusals on /console/ paths become pages; elsewhere the JSON handlers already installed answer."""
    json_hub = app.exception_handlers.get(HubError)
    json_domain = app.exception_handlers.get(domain.DomainError)

    def on_console(request: Request) -> bool:
        return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")

    async def hub_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HubError)
        if not on_console(request):
            assert json_hub is not None
            return await _call(json_hub, request, exc)
        page = Page(request=request, db=None, language=_language(request))
        return _refusal_page(request, exc.status_code, refusal_text(page, exc.reason, exc.detail))

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, domain.DomainError)
        if not on_console(request):
            assert json_domain is not None
            return await _call(json_domain, request, exc)
        page = Page(request=request, db=None, language=_language(request))
        return _refusal_page(request, http_status_of(exc), refusal_text(page, exc.reason, exc.detail))

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        page = Page(request=request, db=None, language=_language(request))
        return _refusal_page(request, exc.status_code, page.t(exc.message_key))

    async def already_answered(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AlreadyAnswered)
        return RedirectResponse(exc.location, status_code=303)

    async def login_required(request: Request, exc: Exception) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": f"{PREFIX}/login"})
        response = RedirectResponse(f"{PREFIX}/login?expired=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")
        return response

    async def password_change(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"{PREFIX}/password", status_code=303)

    app.add_exception_handler(HubError, hub_error)
    app.add_exception_handler(domain.DomainError, domain_error)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(AlreadyAnswered, already_answered)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PasswordChangeRequired, password_change)


async def _call(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if isinstance(result, Awaitable):
        result = await result
    assert isinstance(result, Response)
    return result
