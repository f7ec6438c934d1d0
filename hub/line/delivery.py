"""Sending to LINE with the SDK's async client: reply with the event's token, push when the reply cannot
be used (token spent or expired, slow work), retries with full-jitter backoff on 429 and 5xx.

No message is lost or doubled:
- the messages are in the event's outbox row (`LineEvent.reply`) before anything is sent, and marked
  delivered only after LINE accepted them; while LINE cannot be reached the inbox row stays pending and
  the inbox worker pushes them again later (hub/jobs/line_inbox.py);
- a push carries `X-Line-Retry-Key` derived from the event id, so LINE accepts it once however often
  it is retried (a 409 means an earlier try went through);
- a refused reply is not retried after a 4xx (LINE did not take it) and falls back to push; the caller
  decides (hub/line/webhook.py: a fresh token refused after an earlier holder used it was spent by that
  holder's reply, so nothing is pushed).

A call that gets no answer within `CALL_TIMEOUT` (LINE timing out) or no connection counts as a 5xx.

Replies and pushes go through the SDK's client (its host, token, errors) with the messages as the dicts
they are built as: the SDK's request models would parse them into pydantic models and write them back on
every call, and its HTTP session would read `~/.netrc` and the proxy variables in two worker threads on
every call (together about 14% of the hub's CPU per event under bench/line.py, py-spy, 2026-12-07). The
proxy is read from the environment once per client instead (`_client_without_env_lookups`), and the
stand-in the tests send to checks every body against LINE's spec.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
)
from yarl import URL

from hub.core.vocabulary import ChannelName
from hub.line.channels import LineChannel

log = logging.getLogger(__name__)

_RETRY_NAMESPACE = uuid.UUID("6f1c1e9e-3a55-4c1b-9d1e-2b7c5b0f7a11")
MAX_ATTEMPTS = 5
BASE_DELAY = 0.1
MAX_DELAY = 2.0
CALL_TIMEOUT = 10.0  # seconds for one call to LINE (the SDK's own default would wait 5 minutes)
PROFILE_TIMEOUT = 3.0  # the greeting's display name waits this long at most, once, then goes without


class Pushed(enum.Enum):
    SENT = "sent"  # LINE accepted it now or earlier (409: the retry key was already accepted)
    REFUSED = "refused"  # a 4xx: sending the same again would be refused again
    FAILED = "failed"  # 429, 5xx, timeout or no connection after the retries: worth trying later


class Unreachable(Exception):
    """LINE did not answer in time, or could not be connected to."""


def retry_key(channel: ChannelName, key: str) -> str:
    """The push retry key for one event's messages: the same on every try and every redelivery."""
    return str(uuid.uuid5(_RETRY_NAMESPACE, f"{channel.value}:{key}"))


def _retryable(exc: ApiException) -> bool:
    return exc.status == 429 or (exc.status or 0) >= 500


def _delay(attempt: int, exc: ApiException) -> float:
    retry_after = (exc.headers or {}).get("Retry-After") if exc.headers else None
    if retry_after and retry_after.isdigit():
        return min(float(retry_after), MAX_DELAY)
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt))


async def with_retries(call: Callable[[], Awaitable[Any]], what: str) -> Any:
    """`call()` until it succeeds, a non-retryable refusal, or MAX_ATTEMPTS; re-raises the last error."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            try:
                return await asyncio.wait_for(call(), CALL_TIMEOUT)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise Unreachable(type(exc).__name__) from exc
        except ApiException as exc:
            if not _retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                raise
            log.info("LINE %s answered %s; retrying", what, exc.status)
            await asyncio.sleep(_delay(attempt, exc))
        except Unreachable:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            log.info("LINE %s got no answer; retrying", what)
            await asyncio.sleep(random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt)))
    raise AssertionError("unreachable")


class Sender:
    """One async client per channel, made on first use inside the running event loop."""

    def __init__(self, channels: dict[ChannelName, LineChannel], api_url: str | None) -> None:
        self._channels = channels
        self._api_url = api_url
        self._clients: dict[tuple[ChannelName, int], AsyncApiClient] = {}

    def client(self, channel: ChannelName) -> AsyncApiClient:
        key = (channel, id(asyncio.get_running_loop()))
        client = self._clients.get(key)
        if client is None:
            config = Configuration(host=self._api_url, access_token=self._channels[channel].token)
            client = self._clients[key] = _client_without_env_lookups(config)
        return client

    def api(self, channel: ChannelName) -> AsyncMessagingApi:
        return AsyncMessagingApi(self.client(channel))

    def blob(self, channel: ChannelName) -> AsyncMessagingApiBlob:
        return AsyncMessagingApiBlob(self.client(channel))

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.close()
            except RuntimeError:  # made on another loop that has since closed
                pass

    async def reply(self, channel: ChannelName, reply_token: str, messages: list[dict[str, Any]]) -> Pushed:
        """SENT, REFUSED (a 4xx: the token is spent or expired) or FAILED (no answer, 5xx)."""
        body = {"replyToken": reply_token, "messages": messages}
        client = self.client(channel)
        try:
            await with_retries(lambda: _post(client, "/v2/bot/message/reply", body), "reply")
            return Pushed.SENT
        except ApiException as exc:
            log.warning("LINE reply refused (%s)", exc.status)
            return Pushed.FAILED if _retryable(exc) else Pushed.REFUSED
        except Unreachable:
            log.warning("LINE reply got no answer")
            return Pushed.FAILED

    async def push(
        self, channel: ChannelName, user_id: str, messages: list[dict[str, Any]], key: str
    ) -> Pushed:
        body = {"to": user_id, "messages": messages}
        client = self.client(channel)
        try:
            await with_retries(
                lambda: _post(client, "/v2/bot/message/push", body, {"X-Line-Retry-Key": key}), "push"
            )
            return Pushed.SENT
        except ApiException as exc:
            if exc.status == 409:  # an earlier try with this retry key was accepted
                return Pushed.SENT
            if _retryable(exc):
                log.warning("LINE push failed (%s); kept in the outbox for a later try", exc.status)
                return Pushed.FAILED
            log.error("LINE push refused (%s); kept in the outbox undelivered", exc.status)
            return Pushed.REFUSED
        except Unreachable:
            log.warning("LINE push got no answer; kept in the outbox for a later try")
            return Pushed.FAILED

    async def display_name(self, channel: ChannelName, user_id: str) -> str | None:
        """The user's LINE display name (the profile API), or None: the greeting goes without it when
        LINE refuses (404: not a friend, blocked), fails or is slow. One try, no retries: a name is a
        courtesy, the answer must not wait for it."""
        api = self.api(channel)
        try:
            profile = await asyncio.wait_for(api.get_profile(user_id), PROFILE_TIMEOUT)
        except Exception as exc:  # any failure is the same to the greeting: no name
            log.info("LINE profile not read (%s)", getattr(exc, "status", type(exc).__name__))
            return None
        return shown_name(getattr(profile, "display_name", None))


def _client_without_env_lookups(config: Configuration) -> AsyncApiClient:
    """The SDK's client, its HTTP session told not to look at the environment on every call: the proxy
    the environment names for LINE's host (HTTPS_PROXY, NO_PROXY, ...) is read here, once, as aiohttp
    itself reads it. Not reading `~/.netrc` also means an entry there for LINE's host can no longer stop
    every call (aiohttp refuses its credentials next to the SDK's Authorization header)."""
    try:
        proxy, proxy_auth = get_env_proxy_for_url(URL(config.host))
    except LookupError:
        proxy, proxy_auth = None, None
    if proxy is not None:
        if proxy_auth is not None:  # aiohttp sends a proxy URL's credentials as Proxy-Authorization
            proxy = proxy.with_user(proxy_auth.login).with_password(proxy_auth.password)
        config.proxy = str(proxy)
    client = AsyncApiClient(config)
    rest = client.rest_client
    made = rest.pool_manager
    rest.pool_manager = aiohttp.ClientSession(connector=made.connector, trust_env=False)
    made.detach()  # its connector is the new session's now
    return client


async def _post(
    client: AsyncApiClient, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    """POST `body` as JSON with the SDK's client (its host, bearer token, and ApiException for a non-2xx)."""
    await client.call_api(
        path,
        "POST",
        header_params={"Accept": "application/json", "Content-Type": "application/json", **(headers or {})},
        body=body,
        response_types_map={},
        auth_settings=["Bearer"],
        _return_http_data_only=True,
    )


MAX_DISPLAY_NAME = 20  # LINE's own limit for a display name


def shown_name(name: object) -> str | None:
    """A display name fit to be said back: one line of printable characters, at most 20; None if empty."""
    if not isinstance(name, str):
        return None
    kept = "".join(c if c.isprintable() else " " for c in name)
    words = " ".join(kept.split())[:MAX_DISPLAY_NAME]
    return words or None
