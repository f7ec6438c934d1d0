"""The web plumbing every front end shares (REST, the console, LINE), owned by none of them: the
request's unit of work (its database session) and the client's address.

`hub.db` stays free of any web framework and of the services: the session dependency lives here, over
`hub.services.unit_of_work`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Annotated, Any, Generic, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from hub.services.unit_of_work import finish_and_close

T = TypeVar("T")
U = TypeVar("U")


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


Networks = tuple[IPv4Network | IPv6Network, ...]


@dataclass(frozen=True)
class Origin:
    """Where a request really came from: the client's address and the scheme it used."""

    client: str | None
    scheme: str


def request_origin(peer: str | None, scheme: str, headers: Headers, trusted: Networks) -> Origin:
    """The one rule for who sent a request and over what (docs/identity.md, docs/deploy.md).

    The direct peer and the scheme of its connection, unless that peer is a trusted proxy
    (HUB_TRUSTED_PROXIES); then the client is the nearest X-Forwarded-For entry that is not itself a
    trusted proxy, and the scheme is the one in the nearest X-Forwarded-Proto (nginx's `$scheme`).
    Entries further left were written by whoever sent the request and are never believed; neither is
    either header from a peer that is not a trusted proxy. `hub.middleware.TrustedProxies` applies it
    to every request before anything reads the address or the scheme."""
    if peer is None or not trusted:
        return Origin(peer, scheme)

    def is_trusted(address: IPv4Address | IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in trusted)

    if not is_trusted(_address(peer)):
        return Origin(peer, scheme)
    protos = [p.strip().lower() for header in headers.getlist("x-forwarded-proto") for p in header.split(",")]
    if protos and protos[-1] in ("http", "https"):
        scheme = protos[-1]
    hops = [hop for header in headers.getlist("x-forwarded-for") for hop in header.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a malformed hop: believe nothing to its left, and do not invent an address
        if not is_trusted(address):
            return Origin(str(address), scheme)
    return Origin(peer, scheme)


def client_ip(request: Request) -> str | None:
    """The client's address as `request_origin` decided it (the middleware put it in the request)."""
    return request.client.host if request.client else None


# Where `get_db` leaves the request's unit of work, for the endpoint's trip to end it (hub.api.routing).
UNIT_KEY = "hub.unit"


class Unit:
    """The request's session and whether its unit of work has ended (committed or rolled back, closed)."""

    __slots__ = ("db", "ended")

    def __init__(self, db: Session) -> None:
        self.db = db
        self.ended = False

    def end(self, error: BaseException | None) -> None:
        """Commit (or roll back on `error`) and close, once; in a worker thread, never on the event loop."""
        if not self.ended:
            self.ended = True
            finish_and_close(self.db, error)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work (hub.services.unit_of_work): one session bound to this app's engine,
    committed once after the endpoint returns and before the answer is sent (the dependency's "function"
    scope), rolled back if anything raised. Routes and services never commit.

    An async generator on purpose: making the session does no I/O, so it costs no trip to the thread
    pool (a plain generator dependency makes two). A plain `def` endpoint ends the unit in its own trip
    to the thread pool, right after it returns (hub.api.routing.OneTripRoute); otherwise the commit or
    rollback and the close, which do I/O and may wait for SQLite's write lock, run here together in one
    thread-pool call. Either way shielded from the request's cancellation, so that a client hanging up
    never leaves a connection checked out."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    unit = request.scope[UNIT_KEY] = Unit(factory())
    try:
        yield unit.db
    except BaseException as exc:
        if not unit.ended:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(unit.end, exc)
        raise
    if not unit.ended:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(unit.end, None)


# Where a request's `Later` values wait for the endpoint's trip to work them out.
LATER_KEY = "hub.later"


class Later(Generic[T]):
    """A dependency's value that needs the database (the caller behind a bearer token): worked out in
    the endpoint's own trip to the thread pool, on the request's session, instead of a trip of its own.
    `then` chains a check or a conversion; each step runs once, however many parameters share it.

    Every Later of a request is kept in its scope (`LATER_KEY`), and hub.api.routing.OneTripRoute works
    them all out, in the order they were made, before it calls the endpoint: a check is never skipped
    because the dependency that asked for it kept the value to itself. A plain `def` dependency that
    must know the caller first calls `get()` itself."""

    __slots__ = ("_compute", "_value", "_known", "_pending")

    def __init__(self, compute: Callable[[], T], pending: list[Later[Any]]) -> None:
        self._compute = compute
        self._known = False
        self._value: T | None = None
        self._pending = pending
        pending.append(self)

    @classmethod
    def of_request(cls, request: Request, compute: Callable[[], T]) -> Later[T]:
        return cls(compute, request.scope.setdefault(LATER_KEY, []))

    def get(self) -> T:
        if not self._known:
            self._value = self._compute()
            self._known = True
        return self._value  # type: ignore[return-value]

    def then(self, step: Callable[[T], U]) -> Later[U]:
        return Later(lambda: step(self.get()), self._pending)


def work_out_later(request: Request) -> None:
    """Every `Later` of the request, in the order they were made (in the endpoint's trip)."""
    for later in request.scope.get(LATER_KEY, ()):
        later.get()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]
