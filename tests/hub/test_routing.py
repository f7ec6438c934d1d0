"""hub.api.routing.APIRouter's quick "not mine" must never hide a route: every REST route's own path
(placeholders filled in) is still matched to that very route, by the app as a whole."""

from __future__ import annotations

import re

from starlette.routing import Match

from hub.api.routing import APIRouter


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_every_api_route_is_still_found(app, client, keys_dir):
    checked = 0
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    for template, operations in app.openapi()["paths"].items():
        if not template.startswith("/api/v1/"):
            continue
        method = sorted(operations)[0].upper()
        response = client.request(method, _concrete(template))
        # Found means FastAPI ran the route (auth, validation or the handler answered), not a 404/405
        # from the router. A handler's own 404 (an unknown id) says "not found" in its body.
        assert response.status_code != 405, template
        if response.status_code == 404:
            assert response.json() != unknown.json(), template
        checked += 1
    assert checked > 60


def test_a_router_refuses_paths_none_of_its_routes_can_match():
    router = APIRouter(prefix="/passes")

    @router.get("/{pass_id}")
    def one(pass_id: str) -> str:
        return pass_id

    scope = {"type": "http", "path": "/api/v1/trust/bundle", "method": "GET", "root_path": ""}
    assert router.matches(scope) == (Match.NONE, {})
    assert router._literals() == ("/passes/",)
