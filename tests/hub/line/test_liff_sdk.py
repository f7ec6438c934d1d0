"""The hub serves LINE's real LIFF SDK at /liff/sdk.js, built by scripts/bootstrap from the npm package
`@line/liff` at the version pinned in scripts/liff-sdk/package-lock.json: no hand step for an operator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.ci import skip_or_fail
from tests.hub.line.test_liff_pages import browser  # noqa: F401  (the module's Chromium fixture)

LOCK = Path(__file__).resolve().parents[3] / "scripts" / "liff-sdk" / "package-lock.json"


def _pinned_version() -> str:
    return json.loads(LOCK.read_text())["packages"]["node_modules/@line/liff"]["version"]


def _sdk(client: TestClient) -> str:
    response = client.get("/liff/sdk.js")
    if response.status_code == 404:
        skip_or_fail("the LIFF SDK is not built (scripts/bootstrap builds it with npm)")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    return response.text


def test_the_lock_pins_the_sdk_with_its_integrity():
    entry = json.loads(LOCK.read_text())["packages"]["node_modules/@line/liff"]
    assert entry["integrity"].startswith("sha512-") and entry["version"].count(".") == 2


def test_the_served_sdk_is_lines_own_at_the_pinned_version(client: TestClient, browser: Any):  # noqa: F811
    sdk = _sdk(client)
    page = browser.new_page()
    # An https origin as in LINE (the SDK needs web storage, which a data: or blank page lacks); the page
    # and the SDK the hub answered are handed to Chromium as that origin's.
    page.route(
        "https://liff.example.test/",
        lambda route: route.fulfill(
            content_type="text/html",
            body='<!doctype html><title>sdk</title><script src="/liff/sdk.js"></script>',
        ),
    )
    page.route(
        "https://liff.example.test/liff/sdk.js",
        lambda route: route.fulfill(content_type="text/javascript", body=sdk),
    )
    try:
        page.goto("https://liff.example.test/")
        seen = page.evaluate(
            "() => ({ init: typeof liff.init, scan: typeof liff.scanCodeV2, idToken: typeof liff.getIDToken,"
            " version: liff.getVersion() })"
        )
    finally:
        page.close()
    assert seen == {
        "init": "function",
        "scan": "function",
        "idToken": "function",
        "version": _pinned_version(),
    }
