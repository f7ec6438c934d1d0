"""Logging in and out: password login, SMS-code login, forced password change, logout (everywhere).

Every rule is the identity and OTP services' (`hub.services.identity`, `hub.services.otp`); this module
moves form fields to them and cookies back to the browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console import i18n
from hub.console.web import (
    ANONYMOUS_COOKIE,
    LANGUAGE_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    AnyPage,
    Form,
    Page,
    PendingPage,
    UserPage,
    field_text,
    permission_names,
    set_cookie,
    shows_refusals,
)
from hub.core.phone import InvalidMobile, normalize_mobile
from hub.core.vocabulary import Role
from hub.services import audit, console_sessions, identity, otp
from hub.web import client_ip

if TYPE_CHECKING:  # the account the identity service hands over, named in annotations only
    from hub.models.identity import User

router = APIRouter()

CONSOLE_SMS_ROLES = (Role.STATION_ADMIN.value, Role.ENTERPRISE_ADMIN.value)


def _logged_in(page: Page, user: User) -> Response:
    """A fresh session id and form token at every login: an id planted before login is worthless."""
    request = page.request
    started = console_sessions.start(page.db, user, client_ip(request))
    page.db.commit()
    target = f"{PREFIX}/password" if user.must_change_password else f"{PREFIX}/"
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, started.session_id, max_age=None)
    response.delete_cookie(ANONYMOUS_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


def _mobile(page: Page, text: str) -> str | None:
    try:
        return normalize_mobile(text)
    except InvalidMobile:
        return None


def _wait(page: Page, seconds: int) -> str:
    """A wait in words, rounded up to what the person must at least wait (a minute, not "0 分鐘")."""
    if seconds >= 60:
        seconds = -(-seconds // 60) * 60
    return i18n.duration(page.language, seconds)


@router.get("/login", response_class=HTMLResponse)
def login_form(page: AnyPage, expired: int = 0) -> Response:
    return page.render("login.html", message=page.t("login.expired") if expired else None)


@router.post("/login", response_class=HTMLResponse)
@shows_refusals(login_form)
def login(page: AnyPage, form: Form) -> Response:
    mobile = _mobile(page, field_text(form, "mobile", 32))
    password = field_text(form, "password", 128)
    if mobile is None or not password:
        return page.render("login.html", status_code=400, message=page.t("error.bad_credentials"))
    # A wrong password is committed by the service before it refuses (the throttle counts it).
    user, _token, _expires = identity.password_login(page.db, mobile, password, client_ip(page.request))
    # The service also issues an API bearer token; the console has no use for it, so it ends at once.
    identity.logout(page.db, user, _token)
    return _logged_in(page, user)


@router.get("/login/sms", response_class=HTMLResponse)
def sms_form(page: AnyPage) -> Response:
    return page.render("login_sms.html", step="mobile")


def _sms_code_form(page: Page) -> Response:
    """A refused SMS login stays where the code is typed: asked again too soon, the code sent before
    still works (the wait in words, to the minute); a wrong code may be typed again (the service has
    counted the try)."""
    assert page.refusal is not None
    mobile = page.typed(f"{PREFIX}/login/sms", "mobile")
    if page.refusal.retry_after is not None:
        wait = page.t("login.wait", wait=_wait(page, page.refusal.retry_after))
        return page.render("login_sms.html", step="code", mobile=mobile, message=wait)
    return page.render("login_sms.html", step="code", mobile=mobile)


@router.post("/login/sms", response_class=HTMLResponse)
@shows_refusals(_sms_code_form)
def sms_login(page: AnyPage, form: Form) -> Response:
    ip = client_ip(page.request)
    mobile_text = field_text(form, "mobile", 32)
    mobile = _mobile(page, mobile_text)
    if mobile is None:
        return page.render("login_sms.html", step="mobile", status_code=400, message=page.t("error.bad_code"))
    code = field_text(form, "code", 12)
    if not code:
        # Step 1: send a code. The answer is the same whether or not the mobile has an account.
        identity.request_code(page.db, mobile, otp.Purpose.LOGIN, ip)
        return page.render(
            "login_sms.html", step="code", mobile=mobile_text, message=page.t("login.code_sent")
        )
    # Step 2: the code, then the account (the first such login registers an imported admin). A wrong
    # try is committed by the service before it refuses.
    otp.verify_code(page.db, mobile, otp.Purpose.LOGIN, code)
    accounts = [a for a in identity.sms_login_accounts(page.db, mobile) if a.role in CONSOLE_SMS_ROLES]
    chosen = field_text(form, "account", 20)
    if chosen:
        accounts = [a for a in accounts if str(a.id) == chosen]
    if not accounts:
        page.db.rollback()
        return page.render(
            "login_sms.html", step="mobile", status_code=403, message=page.t("login.no_console")
        )
    if len(accounts) > 1:
        page.db.rollback()  # the code stays valid for the retry that names the account
        return page.render("login_sms.html", step="choose", mobile=mobile_text, code=code, accounts=accounts)
    user = accounts[0]
    first = identity.signed_in(user)
    audit.record(page.db, "login", actor=user, client_ip=ip, method="sms", first_login=first, via="console")
    return _logged_in(page, user)


@router.get("/password", response_class=HTMLResponse)
def password_form(page: PendingPage) -> Response:
    assert page.user is not None
    return page.render("password.html", forced=page.user.must_change_password)


@router.post("/password", response_class=HTMLResponse)
@shows_refusals(password_form)
def change_password(page: PendingPage, form: Form) -> Response:
    assert page.user is not None
    # The console holds no API token: every token of the user ends (current_token matches none), and so
    # does every other console session. A wrong current password is committed by the service first.
    identity.change_password(
        page.db,
        page.user,
        field_text(form, "current_password", 128),
        field_text(form, "new_password", 128),
        client_ip(page.request),
        current_token="",
    )
    assert page.session is not None
    console_sessions.end_others(page.db, page.user, keep=page.session)
    return page.redirect(f"{PREFIX}/")


@router.post("/logout")
def logout(page: PendingPage, form: Form) -> Response:
    assert page.user is not None and page.session is not None
    console_sessions.end(page.db, page.session, page.user, client_ip(page.request))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


@router.post("/logout/everywhere")
def logout_everywhere(page: PendingPage, form: Form) -> Response:
    assert page.user is not None
    console_sessions.end_everywhere(page.db, page.user, client_ip(page.request))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


@router.get("/account", response_class=HTMLResponse)
def account(page: UserPage) -> Response:
    assert page.user is not None
    return page.render("account.html", permissions=permission_names(page.user))


@router.get("/lang")
def switch_language(request: Request, to: str = "zh-TW", next: str = f"{PREFIX}/") -> Response:
    """A preference cookie only. `next` must be a console path: no open redirect."""
    from hub.console.i18n import LANGUAGES

    if not next.startswith(f"{PREFIX}/") or "//" in next or "\\" in next:
        next = f"{PREFIX}/"
    response = RedirectResponse(next, status_code=303)
    if to in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, to, max_age=365 * 86400)
    return response
