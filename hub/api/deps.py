"""FastAPI dependencies: the current user from a bearer token, role and permission checks, settings.

Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread pool,
and that hop per dependency was a measurable share of a request's cost (docs/deploy.md). Only the ones
that query the database stay plain functions, so the event loop never waits on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.core.config import Settings
from hub.core.fields import MAX_ROW_ID
from hub.core.permissions import Permission
from hub.core.protection import Protector
from hub.core.vocabulary import Role

# The signed-in person as a route receives it: FastAPI reads `Annotated[User, ...]` at runtime (the one
# table module a front end imports at runtime: tests/hub/test_domain_layer.py, SESSION_PLUMBING).
from hub.models.identity import User
from hub.services import identity
from hub.services.errors import NotAllowed, NotAuthenticated, NotFound
from hub.services.scope import Scope
from hub.web import Later, SessionDep, client_ip

bearer_scheme = HTTPBearer(
    auto_error=False, description="Token from /api/v1/auth/login or /api/v1/auth/sms-login"
)


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_protector(request: Request) -> Protector:
    return request.app.state.protector


_ID_PARAMS: dict[int, tuple[str, ...]] = {}


def _id_params(route: object) -> tuple[str, ...]:
    """The path parameters of `route` that are ints: every one is a row id
    (tests/hub/line/test_path_ids.py walks them)."""
    key = id(route)
    names = _ID_PARAMS.get(key)
    if names is None:
        dependant = getattr(route, "dependant", None)
        fields = dependant.path_params if dependant is not None else []
        names = _ID_PARAMS[key] = tuple(f.name for f in fields if f.field_info.annotation is int)
    return names


async def bounded_path_ids(request: Request) -> None:
    """Every id in a path is a row id, 1 to MAX_ROW_ID (hub.core.fields): anything else names no row, so
    it is "not found" (404, a zh-TW page on the console) before any dependency or database sees it; a
    larger number would overflow the database's INTEGER (a 500). An app-wide dependency (hub.main), so
    no route can forget it; a value that is no number at all is left to FastAPI's 422."""
    params = request.path_params
    if not params:
        return
    for name in _id_params(request.scope.get("route")):
        value = params.get(name)
        if isinstance(value, str):
            if not value.isascii() or not value.lstrip("+-").isdigit():
                continue
            value = int(value)
        if isinstance(value, int) and not 1 <= value <= MAX_ROW_ID:
            raise NotFound(name.removesuffix("_id") or "item")


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ProtectorDep = Annotated[Protector, Depends(get_protector)]


async def _client_ip_dependency(request: Request) -> str | None:
    return client_ip(request)


ClientIp = Annotated[str | None, Depends(_client_ip_dependency)]


async def _authenticate(
    request: Request,
    db: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Later[User]:
    """The caller behind the bearer token. A request without one is refused at once; the token's lookup
    waits for the endpoint's trip to the thread pool (`Later`, hub.api.routing.OneTripRoute)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("bearer token required")
    token = credentials.credentials
    return Later.of_request(request, lambda: identity.user_of_token(db, token))


_authenticate.resolved_in_trip = True  # type: ignore[attr-defined]  # only plain `def` endpoints take it


# The caller as the dependencies below chain their checks on it (`Later`, worked out in the endpoint's trip).
_TokenUser = Annotated[Later[User], Depends(_authenticate)]


async def get_user_allowing_password_change(user: _TokenUser) -> Later[User]:
    """For the few endpoints a user with a temporary password may call (change it, log out, whoami)."""
    return user


def _password_changed(user: User) -> User:
    if user.must_change_password:
        raise NotAllowed("change the initial password first", reason="password_change_required")
    return user


async def get_current_user(user: _TokenUser) -> Later[User]:
    return user.then(_password_changed)


CurrentUser = Annotated[User, Depends(get_current_user)]
# The same caller not yet worked out: for the dependencies below, and for a plain `def` dependency that
# must know the caller before it works (it calls `.get()` itself).
CallerFirst = Annotated[Later[User], Depends(get_current_user)]
PendingUser = Annotated[User, Depends(get_user_allowing_password_change)]


async def get_scope(user: CallerFirst, ip: ClientIp) -> Later[Scope]:
    """The caller's Scope (hub.services.scope), resolved once per request and passed to every service."""
    return user.then(lambda known: Scope.of(known, ip))


ScopeDep = Annotated[Scope, Depends(get_scope)]


def require_role(*roles: Role | str) -> Callable[[Later[User]], Awaitable[Later[User]]]:
    """Dependency: the current user, if its role is one of `roles`."""
    allowed = tuple(Role(r) for r in roles)

    def check(user: User) -> User:
        Scope.of(user).require_role(*allowed)
        return user

    async def dependency(user: CallerFirst) -> Later[User]:
        return user.then(check)

    return dependency


SuperAdmin = Annotated[User, Depends(require_role(Role.SUPER_ADMIN))]


def scope_with(permission: Permission | str) -> Callable[[Later[Scope]], Awaitable[Later[Scope]]]:
    """Dependency: the caller's Scope, if it holds `permission`."""
    wanted = Permission(permission)

    def check(scope: Scope) -> Scope:
        scope.require(wanted)
        return scope

    async def dependency(scope: Annotated[Later[Scope], Depends(get_scope)]) -> Later[Scope]:
        return scope.then(check)

    return dependency
