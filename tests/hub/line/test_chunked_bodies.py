"""The body limit (HUB_MAX_UPLOAD_BYTES, 5 MiB) holds on the bytes the hub reads, not on what a
Content-Length says: a chunked body has none, and the hub must stop reading it at the limit instead of
holding all of it (a 256 MiB body to a webhook once grew the hub by 250 MiB)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

CHUNK = b"x" * (64 * 1024)
FORM_CHUNK = b"f=" + b"x" * (64 * 1024 - 3) + b"&"  # many fields, each under the form parser's own cap
SENT = 256 * 1024 * 1024


class Body:
    """A chunked body that counts what the hub pulled from it, made lazily so the sender holds
    nothing; it gives up as soon as the hub has pulled much more than the limit."""

    def __init__(self, limit: int, chunk: bytes) -> None:
        self.limit = limit
        self.chunk = chunk
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < SENT:
            if self.pulled > 2 * self.limit:
                raise AssertionError(f"the hub read {self.pulled} bytes of a body over the limit")
            self.pulled += len(self.chunk)
            yield self.chunk


async def _post(app: object, path: str, content: object, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(path, content=content, headers=headers)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/line/enterprise/webhook", "application/json"),  # read whole by the webhook itself
        ("/api/v1/otp/request", "application/json"),  # read by FastAPI's body parsing
        ("/console/login", "application/x-www-form-urlencoded"),  # read by the form parser
    ],
)
def test_a_chunked_body_over_the_limit_is_refused_without_being_read(app, settings, path, content_type):
    limit = settings.max_upload_bytes
    body = Body(limit, FORM_CHUNK if "form" in content_type else CHUNK)
    headers = {"Content-Type": content_type, "X-Line-Signature": "c2ln", "Origin": "http://testserver"}
    answer = asyncio.run(_post(app, path, body, headers))
    assert "content-length" not in {k.lower() for k in answer.request.headers}  # chunked, as sent
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"] == "too_large"
    assert limit < body.pulled <= limit + len(CHUNK)


def test_a_chunked_body_under_the_limit_is_read_as_before(app):
    async def small() -> AsyncIterator[bytes]:
        yield b'{"mobile": "0912'
        yield b'000001", "purpose": "login"}'

    answer = asyncio.run(_post(app, "/api/v1/otp/request", small(), {"Content-Type": "application/json"}))
    assert answer.status_code == 200, answer.text
