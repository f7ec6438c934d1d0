"""What the LINE client takes from the environment: the proxy it names for LINE's host (read once, as
aiohttp reads it), never `~/.netrc` (hub/line/delivery.py). Through a real forward proxy on loopback."""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from hub.core.vocabulary import ChannelName
from hub.line.channels import configured_channels
from hub.line.delivery import Pushed, Sender, retry_key

MESSAGES = [{"type": "text", "text": "您好"}]


class ForwardProxy:
    """An HTTP forward proxy: takes the absolute-URI requests a client sends to a proxy, notes them and
    their Proxy-Authorization, and passes them on as they are."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                proxy.seen.append((self.path, self.headers.get("Proxy-Authorization")))
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "proxy-authorization", "content-length")
                }
                with httpx.Client(trust_env=False) as client:
                    answer = client.post(self.path, content=body, headers=headers)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _reply(settings: Settings, standin: StandIn) -> Pushed:
    async def run() -> Pushed:
        sender = Sender(configured_channels(settings), standin.url)
        try:
            token = standin.issue_reply_token("enterprise")
            return await sender.reply(ChannelName.ENTERPRISE, token, MESSAGES)
        finally:
            await sender.aclose()

    return asyncio.run(run())


def test_replies_go_through_the_proxy_the_environment_names_with_its_credentials(
    settings: Settings, standin: StandIn, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://line-hub:s3cret@"))
    assert _reply(settings, standin) is Pushed.SENT
    credentials = "Basic " + base64.b64encode(b"line-hub:s3cret").decode()
    assert proxy.seen == [(f"{standin.url}/v2/bot/message/reply", credentials)]
    assert len(standin.answers("enterprise")) == 1


def test_a_push_through_the_proxy_keeps_its_retry_key(
    settings: Settings, standin: StandIn, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", proxy.url)
    key = retry_key(ChannelName.ENTERPRISE, "01PROXYTEST")

    async def run() -> Pushed:
        sender = Sender(configured_channels(settings), standin.url)
        try:
            return await sender.push(ChannelName.ENTERPRISE, "U" + "a" * 32, MESSAGES, key)
        finally:
            await sender.aclose()

    assert asyncio.run(run()) is Pushed.SENT
    assert [path for path, _ in proxy.seen] == [f"{standin.url}/v2/bot/message/push"]
    assert [a.retry_key for a in standin.answers("enterprise")] == [key]


def test_a_host_no_proxy_names_is_reached_directly(
    settings: Settings, standin: StandIn, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _reply(settings, standin) is Pushed.SENT
    assert proxy.seen == []
    assert len(standin.answers("enterprise")) == 1


def test_a_netrc_entry_for_lines_host_does_not_stop_the_answers(
    settings: Settings, standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp would take the entry's credentials and then refuse them next to the SDK's bearer token:
    every reply failed while the file was there."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password something\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert _reply(settings, standin) is Pushed.SENT
    assert len(standin.answers("enterprise")) == 1
