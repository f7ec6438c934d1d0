"""The hub's APIRouter: FastAPI's, with a quick "not mine" for paths none of its routes can match.

FastAPI (0.16x) matches a request against included routers one by one, asking each router to walk all
of its routes, and does that walk twice per request (once to choose, once to handle). With ~100 routes
the walk was a measurable share of a cheap request (docs/deploy.md, "Where the time goes"). Every path a
route can match contains the route path's literal start (the text before its first `{`), so a router
whose literal starts all miss the path can answer "no match" at once; the rest is FastAPI's own matching.
"""

from __future__ import annotations

from typing import Any

import fastapi
from starlette.routing import Match


class APIRouter(fastapi.APIRouter):
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
