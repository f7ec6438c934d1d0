"""The hub's APIRouter: FastAPI's, with a quick "not mine" for paths none of its routes can match, and
its routes' plain `def` endpoints run in one trip to the thread pool (`OneTripRoute`).

FastAPI (0.16x) matches a request against included routers one by one, asking each router to walk all
of its routes, and does that walk twice per request (once to choose, once to handle). With ~100 routes
the walk was a measurable share of a cheap request (docs/deploy.md, "Where the time goes"). Every path a
route can match contains the route path's literal start (the text before its first `{`), so a router
whose literal starts all miss the path can answer "no match" at once; the rest is FastAPI's own matching.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import fastapi
import fastapi.routing
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from hub.web import LATER_KEY, UNIT_KEY, Later, Unit, work_out_later


class APIRouter(fastapi.APIRouter):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", OneTripRoute)
        super().__init__(**kwargs)

    _literal_starts: tuple[str, ...] = ()
    _literal_routes: int = -1

    def _literals(self) -> tuple[str, ...]:
        if self._literal_routes != len(self.routes):  # routes are only added at start-up
            starts = {getattr(route, "path", "/").split("{", 1)[0] or "/" for route in self.routes}
            self._literal_starts = tuple(sorted(starts))
            self._literal_routes = len(self.routes)
        return self._literal_starts

    def matches(self, scope: Any) -> tuple[Match, Any]:
        path = scope.get("path", "")
        if not any(start in path for start in self._literals()):
            return Match.NONE, {}
        return super().matches(scope)


class OneTripRoute(fastapi.routing.APIRoute):
    """A route whose plain `def` endpoint costs one trip to the thread pool, not four.

    FastAPI hands each piece of a sync request to the thread pool on its own: every plain `def`
    dependency, the endpoint, the check of its answer against `response_model`, and the commit in
    `hub.web.get_db`'s teardown. Each hand-over between the event loop and a worker thread cost about
    0.1 ms of CPU on the 2-core machine of docs/deploy.md ("The hub's own cost per request"), as much as
    the pass fetch's database work. Here the endpoint is wrapped in an `async def` that does, in a
    single trip: the caller's checks that need the database (`hub.web.Later`, the bearer token's
    lookup), the endpoint, the check of its answer, and the end of the request's unit of work (commit,
    or roll back if anything raised; close). The loop never touches the database, and what is sent
    was built before the commit, as before.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        one_trip = not _is_async(endpoint)
        if one_trip:
            endpoint = self._in_one_trip(endpoint)
        super().__init__(path, endpoint, **kwargs)
        if not one_trip and _takes_later(self.dependant):
            # An async endpoint would get the unresolved value: a mistake to refuse at start-up.
            raise TypeError(f"{path}: an async endpoint cannot take the bearer caller; make it a plain def")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked_first(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                # Who calls is settled before what they sent: a bad token with a bad body is a 401, as
                # it was when the token's lookup was a dependency of its own (tests/hub/test_route_guards.py).
                if request.scope.get(LATER_KEY):
                    await run_in_threadpool(work_out_later, request)
                raise

        return checked_first

    def _in_one_trip(self, call: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        signature = inspect.signature(call, eval_str=True)
        params = list(signature.parameters.values())
        # FastAPI hands the Request to one parameter only: the endpoint's own, if it has one.
        own = next((p.name for p in params if p.annotation is Request), None)
        if own is None:
            params.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request))
        route = self

        def trip(request: Request, arguments: dict[str, Any]) -> Any:
            unit: Unit | None = request.scope.get(UNIT_KEY)
            try:
                work_out_later(request)
                for name, value in arguments.items():
                    if isinstance(value, Later):
                        arguments[name] = value.get()
                result = call(**arguments)
                field = route.response_field
                if field is not None and not isinstance(result, Response):
                    checked, errors = field.validate(result, {}, loc=("response",))
                    if not errors:  # errors: FastAPI raises its own ResponseValidationError (a 500)
                        result = checked
            except BaseException as exc:
                if unit is not None:
                    unit.end(exc)
                raise
            if unit is not None:
                unit.end(None)
            return result

        @functools.wraps(call)
        async def endpoint(**arguments: Any) -> Any:
            # Not cancellable once started (anyio's default): a client hanging up never leaves a unit
            # of work half-ended.
            request = arguments[own] if own is not None else arguments.pop(_REQUEST)
            return await run_in_threadpool(trip, request, arguments)

        endpoint.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return endpoint


_REQUEST = "hub_one_trip_request"  # the parameter the wrapper adds to get the Request (not in OpenAPI)


def _is_async(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)


def _takes_later(dependant: Dependant) -> bool:
    return any(
        getattr(sub.call, "resolved_in_trip", False) or _takes_later(sub) for sub in dependant.dependencies
    )
