"""HTTP client for the hub's device API (docs/CONTRACTS.md, "hub <-> checkpoint HTTP API").

Only transport here: no retries (the sync engine owns backoff), no storage. Personal data in
requests (officer name, mobile) is never put in an exception message.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from checkpoint_app.errors import CheckpointError, HubUnavailableError

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class HubHTTPError(CheckpointError):
    """The hub answered with an error status; its own (English) detail is kept for the log only."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__("hub_refused", status=status_code)
        self.status_code = status_code
        self.detail = detail

    def __str__(self) -> str:
        return f"hub answered {self.status_code}: {self.detail}"


@dataclass(frozen=True)
class Fetched:
    """A conditional GET: content is None when the hub said 304 Not Modified."""

    content: bytes | None
    etag: str | None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _detail(response: httpx.Response) -> str:
    """A short reason from an error answer, without echoing request values back.

    FastAPI's 422 lists the offending *input* next to each error; for an officer login that is a
    name or a mobile number, which must not end up in an exception message or a log.
    """
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    detail = body.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{loc}: {item.get('msg', 'invalid')}")
        return "; ".join(parts)[:200] or "invalid request"
    code = body.get("error")
    text = str(detail) if isinstance(detail, str) else ""
    return (f"{code}: {text}" if code and text else str(code or text or f"HTTP {response.status_code}"))[:200]


class HubClient:
    def __init__(self, base_url: str, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url + API_PREFIX, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise HubUnavailableError("hub_unreachable", cause=type(exc).__name__) from exc
        if response.status_code >= 400:
            raise HubHTTPError(response.status_code, _detail(response))
        return response

    def _json(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._request(method, path, json=payload)
        try:
            body = response.json()
        except ValueError as exc:
            raise CheckpointError("hub_bad_answer") from exc
        if not isinstance(body, dict):
            raise CheckpointError("hub_bad_answer")
        return body

    # -- enrolment and officers -----------------------------------------------------------------------
    def enrol(self, token: str, public_key: bytes, name: str) -> dict[str, Any]:
        return self._json(
            "POST", "/devices/enrol", {"token": token, "public_key": b64(public_key), "name": name}
        )

    def login_start(self, device_id: str, name: str, mobile: str) -> dict[str, Any]:
        return self._json(
            "POST", "/officers/login/start", {"device_id": device_id, "name": name, "mobile": mobile}
        )

    def login_verify(self, device_id: str, mobile: str, code: str) -> dict[str, Any]:
        return self._json(
            "POST", "/officers/login/verify", {"device_id": device_id, "mobile": mobile, "code": code}
        )

    # -- trust data -----------------------------------------------------------------------------------
    def _conditional(self, path: str, etag: str | None, params: dict[str, Any] | None = None) -> Fetched:
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", path, headers=headers, params=params)
        if response.status_code == 304:
            return Fetched(None, etag)
        return Fetched(response.content, response.headers.get("ETag"))

    def trust_bundle(self, etag: str | None = None) -> Fetched:
        return self._conditional("/trust/bundle", etag)

    def status_list(self, kid_hex: str, since: int | None = None, etag: str | None = None) -> Fetched:
        params = {"since": since} if since is not None else None
        return self._conditional(f"/trust/status/{kid_hex}", etag, params)

    # -- device-signed requests: a scan batch, the ID-card check --------------------------------------
    def _signed_post(self, path: str, device_id: str, body: bytes, signature: bytes) -> dict[str, Any]:
        response = self._request(
            "POST",
            path,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Device-Id": device_id,
                "X-Device-Signature": b64(signature),
            },
        )
        try:
            answer = json.loads(response.content)
        except ValueError as exc:
            raise CheckpointError("hub_bad_answer") from exc
        if not isinstance(answer, dict):
            raise CheckpointError("hub_bad_answer")
        return answer

    def upload_batch(self, device_id: str, body: bytes, signature: bytes) -> dict[str, Any]:
        answer = self._signed_post("/scans/batches", device_id, body, signature)
        if not isinstance(answer.get("results"), list):
            raise CheckpointError("hub_bad_answer")
        return answer

    def id_check(self, device_id: str, body: bytes, signature: bytes) -> dict[str, Any]:
        return self._signed_post("/officers/id-check", device_id, body, signature)
