"""LINE tests: the hub configured with both channels against a fresh LINE stand-in."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from tests.hub.line.linekit import LOGIN_CHANNEL_ID, TOKENS, line_settings


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(TOKENS, login_channel_id=LOGIN_CHANNEL_ID)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, standin: StandIn) -> Settings:
    return line_settings(settings, standin)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_hub(app: object) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
