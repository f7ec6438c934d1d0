"""Ids are bounded where they enter: an id in a path beyond what an id column holds (or below 1) names
no row, so it is a 404 — a zh-TW page on the console — before it reaches the database, where it once
overflowed SQLite's and PostgreSQL's integers (a 500). Every route with an int path parameter is
walked from the app itself, so a new route cannot forget."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from hub.services.bootstrap import create_super_admin
from tests.hub.console.test_console_pages import SUPER, _console_login
from tests.hub.hubkit import SmsOutbox
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_whitelists import ADMIN_A, _bind

HUGE = str(2**70)  # 1180591620717411303424


def _id_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path, int parameters) of every route with an int path parameter."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        ints = [f.name for f in dependant.path_params if f.field_info.annotation is int]
        for method in sorted(route.methods or ()) if ints else ():
            if method != "HEAD":
                found.append((method, route.path, ints))
    return found


def _path(template: str, ints: list[str], wrong: str, which: str) -> str:
    """`template` with `which` set to `wrong`, the other ids to 1 and any other parameter to a word."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == which:
            return wrong
        return "1" if name in ints else "enterprise"

    return re.sub(r"\{([^}]+)\}", value, template)


def test_every_id_in_every_path_is_bounded(app):
    routes = _id_routes(app)
    assert len(routes) > 50  # the API, the console and LIFF are all walked
    client = TestClient(app, client=("203.0.113.5", 40000))
    for method, template, ints in routes:
        for which in ints:
            for wrong in (HUGE, "-" + HUGE, "0", str(2**31)):
                path = _path(template, ints, wrong, which)
                answer = client.request(method, path, follow_redirects=False)
                assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:200])


def test_the_console_answers_a_huge_id_with_a_zh_tw_page(hub, client, sms, keys_dir):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console = _console_login(client, sms, SUPER)
    answer = console.get(f"/console/enterprises/{HUGE}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "找不到" in answer.text
    assert console.get("/console/enterprises/1").status_code == 404  # an id in range: the same answer


def test_liff_answers_a_huge_employee_id_with_404(client, standin, sms: SmsOutbox, hub):
    hub.register_enterprise(mobile=ADMIN_A, ubn="28010606", name="艾斯移動股份有限公司")
    token = standin.issue_id_token(_bind(LineChat(client, standin, "enterprise"), sms, ADMIN_A))
    answer = client.post(f"/liff/api/employees/{HUGE}/update", json={"id_token": token, "name": "王小明"})
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "not_found"
