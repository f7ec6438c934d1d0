"""The console's web layer: cookies, CSRF, Origin, templates, refusals as pages (security headers:
hub.middleware.SecurityHeaders).

Pages live in `hub.console.pages_*`; each calls the services with the logged-in user and renders the
answer or the refusal. Decisions are in docs/console.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from checkpoint_app.reasons import reason_text  # the verdicts' words, shared with the app
from hub.console import i18n
from hub.core import clock
from hub.core.permissions import Permission
from hub.core.vocabulary import Role
from hub.errors import HubError, http_status_of
from hub.i18n import refusals
from hub.services import console_intents, console_sessions
from hub.services import errors as domain
from hub.services.scope import Scope, effective_permissions, has_permission, is_hub_admin
from hub.services.unit_of_work import finish
from hub.web import SessionDep

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.console import ConsoleIntent, ConsoleSession
    from hub.models.identity import User

PREFIX = "/console"
SESSION_COOKIE = "checkpass_console"
ANONYMOUS_COOKIE = "checkpass_console_form"  # the CSRF token of forms shown before login
LANGUAGE_COOKIE = "checkpass_lang"
HERE = Path(__file__).parent

TAIPEI = clock.TAIPEI  # every time a person reads in the console is Taipei time (hub.core.clock)
templates = Jinja2Templates(directory=str(HERE / "templates"))  # .html: autoescaped


def taipei(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the console shows it: Taipei wall time (the footer says so; hub.core.clock)."""
    if value is None:
        return ""
    return clock.in_taipei(clock.as_utc(value)).strftime(fmt)


templates.env.filters["taipei"] = taipei


def as_json(value: object) -> str:
    """Readable JSON (Chinese as itself); plain text, so the template escapes it like any other."""
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


templates.env.filters["as_json"] = as_json


def epoch_taipei(value: int | None) -> str:
    return taipei(dt.datetime.fromtimestamp(value, dt.UTC)) if value else ""


templates.env.filters["epoch_taipei"] = epoch_taipei

_TIME_COLUMNS = {"issued_at", "not_before", "expires_at", "revoked_at", "scanned_at", "visited_at"}


@pass_context
def cell(context: Any, value: object, column: str) -> str:
    """A register cell as a person reads it, in the page's language: times in Taipei (the JSON holds UTC
    ISO 8601), yes/no for True/False, a verdict or a kind in words, never a raw code."""
    language = context.get("page").language if context.get("page") is not None else i18n.DEFAULT_LANGUAGE
    if value is None:
        return ""
    if isinstance(value, bool):
        return i18n.translate(language, "common.yes") if value else i18n.translate(language, "common.no")
    if column in _TIME_COLUMNS and isinstance(value, str):
        try:
            return taipei(dt.datetime.fromisoformat(value), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return value
    if column == "reason" and isinstance(value, str):
        zh, en = reason_text(value)
        return en if language == "en" else zh
    if column == "kind" and isinstance(value, str) and i18n.has(f"status.{value}"):
        return i18n.translate(language, f"status.{value}")
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
    intent: ConsoleIntent | None = None  # this POST's claimed form submission (hub.services.console_intents)
    posted: FormData | None = None  # this POST's checked form
    refusal: Shown | None = None  # what this request was refused (`shows_refusals`), shown by `render`

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

    def status(self, value: object) -> str:
        """A state word (valid, revoked, active, retired, online, ok...) in the page's language."""
        key = f"status.{getattr(value, 'value', value)}"
        return self.t(key) if i18n.has(key) else str(getattr(value, "value", value))

    def trust_health(self, state: str, expires_in_s: int | None) -> str:
        """The trust data's state and time left, in words: 「正常，剩餘 7 天」 (not "ok — 168.0 h")."""
        if expires_in_s is None or expires_in_s <= 0:
            return self.status(state)
        left = i18n.duration(self.language, expires_in_s)
        return self.t("trust.health", state=self.status(state), left=left)

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
            f'<input type="hidden" name="{console_intents.FIELD}" value="{console_intents.new_token()}">'
        )

    def done_message(self) -> str | None:
        """What the action before the redirect did, from the `done` key it put in the URL (`redirect`)."""
        done = self.request.query_params.get("done", "")
        key = f"done.{done}"
        if not done or not i18n.has(key):
            return None
        n = self.request.query_params.get("n", "")
        return self.t(key, n=int(n) if n.isdigit() and len(n) < 7 else 0)

    def render(self, template: str, status_code: int | None = None, **context: Any) -> HTMLResponse:
        if self.intent is not None:
            # A page, not a redirect: nothing a repeat must not do again (a refusal, a confirmation step).
            console_intents.release(self.db, self.intent)
            self.intent = None
        if self.refusal is not None:
            # The form the person was on, shown again with what was refused (`shows_refusals`).
            status_code = status_code or self.refusal.status
            if context.get("message") is None:
                context["message"] = self.refusal.message
            if context.get("report") is None:
                context["report"] = self.refusal.report
        elif context.get("message") is None and self.request.method == "GET":
            context["message"] = self.done_message()
        response = templates.TemplateResponse(
            self.request,
            template,
            {"page": self, "t": self.t, "menu": menu(self), **context},
            status_code=status_code or 200,
        )
        self.set_cookies(response)
        return response

    def redirect(self, path: str, done: str | None = None, n: int | None = None) -> RedirectResponse:
        """Post, redirect, get; `done` names what happened (a `done.*` message the next page shows)."""
        if done is not None:
            query = {"done": done} if n is None else {"done": done, "n": str(n)}
            path = f"{path}{'&' if '?' in path else '?'}{urlencode(query)}"
        if self.intent is not None:
            console_intents.answered(self.intent, path)  # a repeat of this submission answers the same
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
    found = console_sessions.find(db, request.cookies.get(SESSION_COOKIE))
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
    token = form.get(console_intents.FIELD)
    if page.session is not None and console_intents.well_formed(token):
        assert isinstance(token, str)
        try:
            claimed = await run_in_threadpool(console_intents.claim, page.db, page.session, token)
        except console_intents.Busy:
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
#
# The console's one place for refusals, as REST's is `hub.errors`: a page lets a service's refusal (a
# `DomainError`, a route's `HubError`) or its form's validation error through, and `shows_refusals` on the
# route shows it on the form the person was on; a route without a form to go back to (a GET page, a
# confirmation step) leaves it to the handlers of `install_error_pages`. Both word it by `refusal_shown`.

Refusal = (HubError, domain.DomainError, ValidationError)  # what a console page may let through


@dataclass(frozen=True)
class Shown:
    """A refusal as the page shows it: in words, with the REST API's status; a refused import's rows."""

    message: str | None
    status: int
    field: str | None = None  # the form field to mark, when the refusal names one
    reason: str = ""  # the machine-readable reason (REST's `error`), for a page's more specific words
    report: list[dict[str, Any]] | None = None
    retry_after: int | None = None  # a throttle's wait, in seconds


def row_report(exc: Exception) -> list[dict[str, Any]] | None:
    """The per-row report of a refused import (hub.services.imports.refuse_import), else None."""
    detail = getattr(exc, "detail", None)
    if isinstance(exc, domain.DomainError) and isinstance(detail, dict) and "errors" in detail:
        return list(detail["errors"])
    return None


def refusal_shown(language: str, exc: HubError | domain.DomainError | ValidationError) -> Shown:
    """A refusal in the page's language (hub.i18n.refusals: the words REST's `message` carries) and the
    status REST answers it with. A validation error names the fields and what is wrong, never the values
    typed (they may be personal data)."""
    if isinstance(exc, ValidationError):
        return Shown(refusals.validation_message(language, exc.errors()), 400, reason="invalid_request")
    if isinstance(exc, HubError):
        message = refusals.status_message(language, exc.status_code, exc.reason)
        return Shown(message, exc.status_code, reason=exc.reason)
    report = row_report(exc)
    message = None if report is not None else refusals.domain_message(language, exc)
    wait = exc.retry_after if isinstance(exc, domain.TooManyRequests | domain.Unavailable) else None
    return Shown(message, http_status_of(exc), getattr(exc, "field", None), exc.reason, report, wait)


def shows_refusals(form: Callable[..., Response] | None = None) -> Callable[[Callable[..., Any]], Any]:
    """The route's refusals shown on `form` (called with the page and those of the route's arguments it
    names, e.g. `org_id`), or on the error page when there is no form to go back to.

    Nothing half-done is kept: the command's transaction is rolled back (with the refusal's own audit
    entries kept, `hub.services.unit_of_work.finish`), and so is the form's intent claim, so the corrected
    form can be sent again with the same intent token (hub.services.console_intents). `Page.render` shows the
    refusal with what was typed (`Page.typed`)."""
    parameters = inspect.signature(form).parameters if form is not None else {}
    assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters.values()), "name them"
    wanted = set(parameters) - {"page"}

    def show(page: Page, exc: Exception, arguments: dict[str, Any]) -> Response:
        assert isinstance(exc, Refusal)
        finish(page.db, exc)
        page.intent = None  # rolled back with the command: nothing left for a repeat to answer
        page.refusal = refusal_shown(page.language, exc)
        if form is None:
            return page.render("error.html", message=page.refusal.message)
        return form(page=page, **{name: value for name, value in arguments.items() if name in wanted})

    def decorate(route: Callable[..., Any]) -> Any:
        if inspect.iscoroutinefunction(route):

            @functools.wraps(route)
            async def run_async(**arguments: Any) -> Any:
                try:
                    return await route(**arguments)
                except Refusal as exc:
                    return await run_in_threadpool(show, arguments["page"], exc, arguments)

            return run_async

        @functools.wraps(route)
        def run(**arguments: Any) -> Any:
            try:
                return route(**arguments)
            except Refusal as exc:
                return show(arguments["page"], exc, arguments)

        return run

    return decorate


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
        shown = refusal_shown(_language(request), exc)
        return _refusal_page(request, shown.status, shown.message or "")

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, domain.DomainError)
        if not on_console(request):
            assert json_domain is not None
            return await _call(json_domain, request, exc)
        shown = refusal_shown(_language(request), exc)
        return _refusal_page(request, shown.status, shown.message or "")

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
