"""LINE tests: the hub configured with both channels against a fresh LINE stand-in."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from pydantic import SecretStr

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from tests.hub.line.linekit import LOGIN_CHANNEL_ID, SECRETS, TOKENS


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(TOKENS, login_channel_id=LOGIN_CHANNEL_ID)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, standin: StandIn) -> Settings:
    return settings.model_copy(
        update={
            "line_enterprise_channel_secret": SecretStr(SECRETS["enterprise"]),
            "line_enterprise_channel_token": SecretStr(TOKENS["enterprise"]),
            "line_police_channel_secret": SecretStr(SECRETS["police"]),
            "line_police_channel_token": SecretStr(TOKENS["police"]),
            "line_api_url": standin.url,
            "line_login_channel_id": LOGIN_CHANNEL_ID,
            "line_login_api_url": standin.url,
            "liff_id_enterprise": "2000000001-enterpri",
            "liff_id_police": "2000000001-policeAB",
        }
    )


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
