"""/docs works on a hub without internet: the page refers to nothing outside the hub, and the Swagger UI
files it needs are served by the hub itself (hub/api_docs.py)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from hub.api_docs import ASSETS_DIR

# Every URL in the page: attributes, CSS url(...), and the quoted strings the inline script passes on.
_URLS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)|["'](\w+://[^"']+)["']""")


def _referenced(html: str) -> list[str]:
    return [next(g for g in match.groups() if g) for match in _URLS.finditer(html)]


def test_docs_page_references_no_external_host(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert "SwaggerUIBundle" in html and "/openapi.json" in html
    urls = _referenced(html)
    assert urls, html
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"/docs refers to another host: {url}"
    assert "://" not in html, "an absolute URL in /docs (a CDN, a validator badge?)"
    assert '"validatorUrl": null' in html


def test_docs_assets_load_from_the_hub(client) -> None:
    html = client.get("/docs").text
    assets = [u for u in _referenced(html) if u.startswith("/static/")]
    kinds = {u.rsplit(".", 1)[-1] for u in assets}
    assert {"js", "css", "png"} <= kinds, assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 500, url
    script = client.get(next(u for u in assets if u.endswith(".js")))
    assert "javascript" in script.headers["content-type"]
    assert b"SwaggerUIBundle" in script.content  # the real bundle, not a placeholder
    assert "text/css" in client.get(next(u for u in assets if u.endswith(".css"))).headers["content-type"]
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_the_vendored_files_carry_their_licence() -> None:
    assert "Apache License" in (ASSETS_DIR / "LICENSE.txt").read_text()
    assert "swagger-ui-dist" in (ASSETS_DIR / "README.txt").read_text()


def test_redoc_which_would_need_a_cdn_is_not_offered(client) -> None:
    assert client.get("/redoc").status_code == 404
