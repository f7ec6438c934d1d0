"""/docs in a real browser with every request to another host refused: Swagger UI still renders the
hub's operations (Debian's chromium through Playwright, the hub served by uvicorn on a free port)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn

from hub.core.config import Settings
from hub.main import create_app
from tests.ci import skip_or_fail
from tests.hub.hubkit import PASSPHRASE, SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def served_hub(tmp_path: Path, _keys_template: Path) -> Iterator[str]:
    shutil.copytree(_keys_template, tmp_path / "keys")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        keys_dir=tmp_path / "keys",
        key_passphrase=PASSPHRASE,
        secret_key=SECRET,
        sms_gateway="file",
        sms_file_path=tmp_path / "sms.jsonl",
        purge_interval_seconds=0,
        trust_publish_seconds=0,
        _env_file=None,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_docs_render_without_internet(served_hub: str) -> None:
    if not Path(CHROMIUM).exists():
        skip_or_fail("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def only_the_hub(route, request) -> None:  # noqa: ANN001 - Playwright's callback types
                if urlsplit(request.url).netloc == urlsplit(served_hub).netloc or request.url.startswith(
                    "data:"
                ):
                    route.continue_()
                else:
                    refused.append(request.url)
                    route.abort()

            page.route("**/*", only_the_hub)
            page.goto(f"{served_hub}/docs")
            page.wait_for_selector(".opblock", timeout=30_000)
            operations = page.locator(".opblock").count()
            title = page.locator(".information-container .title").first.inner_text()
        finally:
            browser.close()
    assert refused == [], f"/docs asked other hosts for {refused}"
    assert operations > 20
    assert "Checkpass hub" in title
