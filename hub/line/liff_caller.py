"""The one way into a LIFF API endpoint: `call: Annotated[LiffCall, liff(Role.X, ...)]`.

The contract (docs/line.md, "LIFF pages"):
- the page sends LINE's ID token (`liff.getIDToken()`) as the `id_token` field of its body: JSON, or the
  multipart form of an upload;
- the hub verifies it server side with LINE Login (`POST {HUB_LINE_LOGIN_API_URL}/oauth2/v2.1/verify`,
  our LINE Login channel as client id; `aud`, `iss`, `exp` checked again here); its `sub` is the LINE user;
- with roles, that LINE user must be bound (in the channel those roles belong to) to a person who holds
  one of them *now* (`hub.services.line_bindings.caller_of` asks the services again); that account is the
  actor and `call.scope` its `Scope`, handed to every service. Without roles (`bound=True`) any bound
  account will do; `bound=False` is for the registration pages, which decide themselves;
- the request is one unit of work (`hub.services.unit_of_work`, as `hub.web.get_db` is for REST):
  committed after the endpoint returns and before the answer is sent, rolled back if it raises;
  endpoints never commit;
- every refusal (a token LINE does not vouch for, a caller without the role, a service's DomainError)
  is answered `{"error", "message", "detail"?}` with a `message` for the page in the language the page
  asks for (`Accept-Language`: pages.js sends the page's own; `call.t(key)` words an endpoint's answer).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import httpx
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from hub.core.config import Settings
from hub.core.vocabulary import ChannelName, Role
from hub.errors import HubError, http_status_of, language_of
from hub.i18n import catalogue, refusals
from hub.line.channels import role_label
from hub.line.words import t
from hub.services.errors import DomainError, NotAllowed, NotAuthenticated, TooManyRequests, Unavailable
from hub.services.line_bindings import CHANNEL_ROLES, caller_of
from hub.services.scope import Scope
from hub.services.unit_of_work import finish, finish_and_close
from hub.web import client_ip

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.identity import User

ROLE_CHANNEL: dict[Role, ChannelName] = {
    role: channel for channel, roles in CHANNEL_ROLES.items() for role in roles
}

# A refusal reads as hub.i18n.refusals words it for every front end, in the page's language, except where
# the pages have their own step to point to (a station not yet registered: the registration form).
LIFF_KEYS = {"no_organisation": "liff.no_organisation"}
# Reasons whose detail the service already wrote for the person (what is wrong with the file).
WORDED_DETAIL = {"bad_spreadsheet"}


class TokenIn(BaseModel):
    """The base of every LIFF request body: the ID token, read and verified by the dependency (declared
    here too so that the API's schema and validation name it)."""

    id_token: Annotated[str, Field(min_length=10, max_length=4096)]


class LiffRefusal(HTTPException):
    """A refusal as the LIFF pages read it; rendered by the hub's HTTPException handler (`hub.errors`),
    which passes a body with an `error` through as it is."""

    def __init__(
        self, status: int, error: str, message: str, detail: Any = None, retry_after: int | None = None
    ) -> None:
        body: dict[str, Any] = {"error": error, "message": message}
        if detail is not None:
            body["detail"] = detail
        headers = None
        if retry_after is not None:  # as every REST answer of a 429 or 503 says it (hub/errors.py)
            body["retry_after"] = retry_after
            headers = {"Retry-After": str(retry_after)}
        super().__init__(status, body, headers=headers)


def refusal_of(exc: DomainError | HubError, language: str = catalogue.DEFAULT_LANGUAGE) -> LiffRefusal:
    """A service's refusal in the pages' words, in `language`. Wrong, expired, used or unknown SMS codes
    get one answer (the catalogue gives them one text)."""
    status = http_status_of(exc) if isinstance(exc, DomainError) else exc.status_code
    detail = exc.detail if isinstance(exc.detail, dict | list) else None
    if exc.reason in LIFF_KEYS:
        message = catalogue.text(language, LIFF_KEYS[exc.reason])
    elif exc.reason in WORDED_DETAIL and isinstance(exc.detail, str):
        message = exc.detail
    elif isinstance(exc, DomainError):
        message = refusals.domain_message(language, exc)
    else:
        message = refusals.status_message(language, exc.status_code, exc.reason)
    if exc.reason.startswith("code_"):
        status = 400
    # A wait the page (and LINE's in-app browser) can honour: the SMS provider down is a deliberate 503,
    # a cap a 429, each with when to try again (the field rehearsal found them answered without it).
    retry_after = exc.retry_after if isinstance(exc, TooManyRequests | Unavailable) else None
    if isinstance(exc, HubError) and exc.headers and exc.headers.get("Retry-After", "").isdigit():
        retry_after = int(exc.headers["Retry-After"])
    return LiffRefusal(status if 400 <= status < 600 else 400, exc.reason, message, detail, retry_after)


async def line_user_of(settings: Settings, id_token: str, channels: Sequence[ChannelName]) -> str:
    """The LINE user ID of a valid ID token issued for the LINE Login channel of one of `channels`' LIFF
    apps; NotAuthenticated else. LINE verifies a token only for the channel it was issued for, so each
    distinct channel is asked in turn (one request when both LIFF apps share a channel)."""
    client_ids = [cid for cid in dict.fromkeys(settings.login_channel_id(c) for c in channels) if cid]
    if not client_ids:
        raise NotAuthenticated("LINE Login is not configured")
    url = settings.line_login_api_url.rstrip("/") + "/oauth2/v2.1/verify"
    async with httpx.AsyncClient(timeout=10) as http:
        for client_id in client_ids:
            response = await http.post(url, data={"id_token": id_token, "client_id": client_id})
            if response.status_code != 200:
                continue
            claims = response.json()
            if (
                claims.get("aud") == client_id
                and claims.get("iss") == "https://access.line.me"
                and int(claims.get("exp", 0)) > time.time()
                and str(claims.get("sub", "")).startswith("U")
            ):
                return str(claims["sub"])
    raise NotAuthenticated("the LINE ID token is not for this hub")


def _expired(language: str) -> LiffRefusal:
    return LiffRefusal(401, "not_authenticated", t("line.liff.login_expired", language))


async def _id_token_in(request: Request) -> str:
    """The body's `id_token` (FastAPI has read and cached the body or form by now)."""
    kind = request.headers.get("content-type", "")
    value: Any = None
    if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        value = (await request.form()).get("id_token")
    else:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if isinstance(body, dict):
            value = body.get("id_token")
    if not isinstance(value, str) or not 10 <= len(value) <= 4096:
        raise _expired(language_of(request))
    return value


async def verified_line_user(request: Request, channels: Sequence[ChannelName]) -> str:
    """The LINE user whose ID token, obtained by the LIFF app of one of `channels`, the request carries,
    as LINE Login says."""
    token = await _id_token_in(request)
    try:
        return await line_user_of(request.app.state.settings, token, channels)
    except NotAuthenticated:
        raise _expired(language_of(request)) from None
    except httpx.HTTPError:
        message = t("line.liff.line_unreachable", language_of(request))
        raise LiffRefusal(502, "line_unreachable", message) from None


@dataclass
class LiffCall:
    """One LIFF request: its session (the request's unit of work), the verified LINE user and, for a
    bound caller, the account acting."""

    db: Session
    line_user_id: str
    account: User | None
    client_ip: str | None = None
    language: str = catalogue.DEFAULT_LANGUAGE  # the page's (Accept-Language)

    def t(self, key: str, **values: object) -> str:
        """The text of `key` in the page's language."""
        return catalogue.text(self.language, key, **values)

    @property
    def scope(self) -> Scope:
        if self.account is None:
            raise NotAllowed("no bound account")
        return Scope.of(self.account, self.client_ip)

    @property
    def org_id(self) -> int:
        """The acting account's own organisation (never one named in the request)."""
        return self.scope.own_org()


def _channels(roles: tuple[Role, ...]) -> list[ChannelName]:
    wanted = roles or tuple(r for rs in CHANNEL_ROLES.values() for r in rs)
    return list(dict.fromkeys(ROLE_CHANNEL[r] for r in wanted))


def _identify(db: Session, line_user_id: str, roles: tuple[Role, ...], language: str) -> User:
    lost_any = False
    for channel in _channels(roles):
        caller, lost = caller_of(db, channel, line_user_id)
        lost_any = lost_any or lost
        if caller is None:
            continue
        if not roles:
            return caller.primary
        for role in roles:
            account = caller.account(role) if ROLE_CHANNEL[role] is channel else None
            if account is not None:
                return account
    if lost_any:
        finish(db, None)  # the binding removed for a lost role stays removed, refused or not
    if not roles:
        raise LiffRefusal(403, "not_bound", t("line.liff.not_bound", language))
    labels = t("line.separator", language).join(role_label(r.value, language) for r in roles)
    raise LiffRefusal(403, "forbidden", t("line.liff.only_for", language, roles=labels))


def liff_caller(
    *roles: Role, bound: bool = True, channel: ChannelName | None = None
) -> Callable[..., AsyncIterator[LiffCall]]:
    """The dependency itself (see `liff`). Like `hub.web.get_db`: an async generator whose database work
    (finding the caller; the commit or rollback and the close) runs in the thread pool, the end shielded
    from the request's cancellation so that a client hanging up never leaves a connection checked out."""
    channels = (channel,) if channel is not None else tuple(_channels(roles))

    async def dependency(request: Request) -> AsyncIterator[LiffCall]:
        line_user_id = await verified_line_user(request, channels)
        language = language_of(request)
        factory: sessionmaker[Session] = request.app.state.sessionmaker
        db = factory()
        try:
            account = await run_in_threadpool(_identify, db, line_user_id, roles, language) if bound else None
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(finish_and_close, db, exc)
            raise
        try:
            yield LiffCall(db, line_user_id, account, client_ip(request), language)
        except BaseException as exc:
            # rolled back; the audit entries a refusal keeps are written
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(finish_and_close, db, exc)
            if isinstance(exc, DomainError | HubError):
                raise refusal_of(exc, language) from exc
            raise
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(finish_and_close, db, None)

    # What the route demands, for tests/hub/test_route_guards.py to check against the channels' roles.
    dependency.roles = roles  # type: ignore[attr-defined]
    dependency.channels = channels  # type: ignore[attr-defined]
    return dependency


def liff(*roles: Role, bound: bool = True, channel: ChannelName | None = None) -> Any:
    """`Depends` on the LIFF caller: a verified LINE user bound to an account with one of `roles`
    (any bound account without roles; anyone LINE vouches for with `bound=False`). The ID token must come
    from the LIFF app of `channel`, else of the channels `roles` belong to (any channel without roles).
    Function scope: the unit of work ends before the answer is sent."""
    return Depends(liff_caller(*roles, bound=bound, channel=channel), scope="function")
