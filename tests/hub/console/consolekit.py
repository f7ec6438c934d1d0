"""Driving the console over HTTP as a browser would: read the form token from the page, post it back
with the site's own Origin header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

ORIGIN = "http://testserver"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def form_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields (form token, intent token...) of the page's POST form to `action`."""
    start = html.find(f'action="{action}"')
    assert start >= 0, f"no form to {action}"
    return dict(_HIDDEN.findall(html[start : html.find("</form>", start)]))


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no form token on the page"
    return found.group(1)


@dataclass
class Console:
    client: TestClient

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict[str, Any], *, token_from: str | None = None, **kwargs: Any) -> Any:
        """Post `data` with the form token of the page at `token_from` (default: `path` itself)."""
        page = self.client.get(token_from or path)
        headers = {"Origin": ORIGIN, **kwargs.pop("headers", {})}
        return self.client.post(
            path, data={"csrf": csrf_of(page.text), **data}, headers=headers, follow_redirects=False, **kwargs
        )

    def submit(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        """`post`, then the page its redirect leads to (post, redirect, get), as a browser shows it."""
        sent = self.post(path, data, **kwargs)
        assert sent.status_code == 303, (sent.status_code, sent.text[:2000])
        return self.get(sent.headers["location"])

    def post_form(self, action: str, data: dict[str, Any], *, page: str, **kwargs: Any) -> Any:
        """Post the form to `action` as rendered on `page`: its own hidden fields (intent included)."""
        fields = form_of(self.client.get(page).text, action)
        return self.send(action, {**fields, **data}, **kwargs)

    def send(self, action: str, data: dict[str, Any], **kwargs: Any) -> Any:
        """Post `data` exactly as given (a form already read, sent again)."""
        headers = {"Origin": ORIGIN, **kwargs.pop("headers", {})}
        return self.client.post(action, data=data, headers=headers, follow_redirects=False, **kwargs)

    def login(self, mobile: str, password: str) -> Any:
        return self.post("/console/login", {"mobile": mobile, "password": password})

    def sms_login(self, mobile: str, code_of: Any, **extra: str) -> Any:
        sent = self.post("/console/login/sms", {"mobile": mobile})
        assert sent.status_code == 200, sent.text
        return self.post(
            "/console/login/sms",
            {"mobile": mobile, "code": code_of(mobile), **extra},
            token_from="/console/login/sms",
        )
