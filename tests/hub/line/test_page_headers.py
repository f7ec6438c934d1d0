"""Every HTML page the hub serves — the console, the LIFF pages, /v/{code}, /docs — says that no other
site may frame it (Content-Security-Policy frame-ancestors and X-Frame-Options), decided in one place
(hub.middleware.page_headers). The routes are walked from the app, so a new page cannot forget."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient


def _filled(path: str) -> str:
    """A route's path with every parameter given a value (a channel where one is wanted)."""
    path = path.replace("{channel}", "enterprise")
    return re.sub(r"\{[^}]+\}", "1", path)


def _html_answers(app) -> dict[str, object]:
    client = TestClient(app, client=("203.0.113.5", 40000))
    answers = {}
    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is not None and "GET" in (route.methods or ()):
            answer = client.get(_filled(route.path), follow_redirects=False)
            if answer.headers.get("content-type", "").startswith("text/html"):
                answers[route.path] = answer
    return answers


def test_every_html_page_forbids_framing(app, keys_dir):
    answers = _html_answers(app)
    # the pages named in the issue are among those walked
    for wanted in ("/docs", "/v/{code}", "/liff/footprint", "/liff/police/scan", "/console/login"):
        assert wanted in answers, sorted(answers)
    for path, answer in answers.items():
        csp = answer.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "default-src 'none'" in csp and "unsafe-eval" not in csp, path
        assert answer.headers.get("x-frame-options") == "DENY", path
        assert answer.headers.get("x-content-type-options") == "nosniff", path


def test_pages_run_only_their_own_scripts(app, keys_dir):
    answers = _html_answers(app)
    for path in ("/v/{code}", "/liff/footprint", "/console/login"):
        script_src = re.search(r"script-src ([^;]*)", answers[path].headers["content-security-policy"])
        assert script_src is not None and script_src.group(1) == "'self'", path
    # /docs starts Swagger UI from an inline script: exactly that one, by its hash, not any inline script
    docs = answers["/docs"].headers["content-security-policy"]
    assert "'sha256-" in docs and "'unsafe-inline'" not in re.search(r"script-src ([^;]*)", docs).group(1)


def test_json_answers_are_left_alone(client):
    answer = client.get("/healthz")
    assert answer.headers["content-type"].startswith("application/json")
    assert "content-security-policy" not in answer.headers
