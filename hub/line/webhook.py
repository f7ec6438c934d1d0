"""`POST /line/enterprise/webhook` and `POST /line/police/webhook`.

The signature is checked by the SDK's `WebhookParser` over the raw body (400 on a bad or missing one,
nothing done). Each event is handled once: its `webhookEventId` is recorded in the same transaction as
what the event changed, together with the messages to send (the outbox); then the reply goes out and
the row is marked delivered. A redelivery of a handled event changes nothing and only sends what was
not delivered yet (by push with the event's retry key).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import (
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub.context import context_of
from hub.core.config import Settings
from hub.db import utcnow
from hub.line.binding import user_tag
from hub.line.channels import ChannelName, LineChannel, configured_channels
from hub.line.conversation import Incoming, Outcome, handle, parse_postback
from hub.line.delivery import Sender, retry_key
from hub.line.links import LINK_SECONDS
from hub.line.menus import MenuLinker
from hub.line.messages import text
from hub.line.models import LineEvent

log = logging.getLogger(__name__)

router = APIRouter(prefix="/line", tags=["line"], include_in_schema=False)

# Longer than a first attempt can take (the reply retries end within a few seconds).
REDELIVERY_GRACE_SECONDS = 30


@dataclass
class _Todo:
    row_id: int
    messages: list[dict[str, Any]]
    menu: str | None
    reply_token: str | None  # None: the reply window is gone (a redelivery), push instead
    later: Any = None


class LineService:
    """Everything the webhooks need, kept on `app.state.line`."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.channels = configured_channels(settings)
        self.sender = Sender(self.channels, settings.line_api_url)
        self.menus = MenuLinker(self.sender)
        self.sheets = SheetCache()
        self._tasks: set[asyncio.Task[None]] = set()

    def channel(self, name: str) -> LineChannel:
        try:
            return self.channels[ChannelName(name)]
        except (ValueError, KeyError):
            raise HTTPException(404, "no such LINE channel") from None

    async def process(self, channel: LineChannel, event: Any) -> None:
        incoming = _incoming(channel.name, event)
        event_id = getattr(event, "webhook_event_id", None)
        if incoming is None or not event_id:
            return
        todo = await asyncio.to_thread(self._handle_once, channel.name, event_id, incoming, event)
        if todo is not None:
            await self.deliver(channel.name, event_id, incoming.line_user_id, todo)

    def _handle_once(
        self, channel: ChannelName, event_id: str, incoming: Incoming, event: Any
    ) -> _Todo | None:
        with self.sessions() as db:
            seen = db.scalars(
                select(LineEvent).where(
                    LineEvent.channel == channel.value, LineEvent.webhook_event_id == event_id
                )
            ).first()
            if seen is not None:
                # Undelivered messages are sent again only once the first handling is surely over: a
                # redelivery that overtakes a slow first attempt must not push what it is replying.
                stale = utcnow() - seen.received_at > dt.timedelta(seconds=REDELIVERY_GRACE_SECONDS)
                if seen.delivered_at is None and seen.reply and stale:
                    return _Todo(seen.id, list(seen.reply), None, None)
                return None
            row = LineEvent(
                channel=channel.value, webhook_event_id=event_id, line_user_id=incoming.line_user_id
            )
            db.add(row)
            try:
                db.flush()
            except IntegrityError:  # the same event being handled right now by another request
                db.rollback()
                return None
            outcome: Outcome = handle(db, incoming)
            row.reply = outcome.messages or None
            if not outcome.messages:
                row.delivered_at = utcnow()
            db.commit()
            if not outcome.messages and outcome.menu is None:
                return None
            token = getattr(event, "reply_token", None)
            return _Todo(row.id, outcome.messages, outcome.menu, token, outcome.later)

    async def deliver(self, channel: ChannelName, event_id: str, user_id: str, todo: _Todo) -> None:
        sent = not todo.messages
        if todo.messages and todo.reply_token:
            sent = await self.sender.reply(channel, todo.reply_token, todo.messages)
        if not sent:
            sent = await self.sender.push(channel, user_id, todo.messages, retry_key(channel, event_id))
        if sent and todo.messages:
            await asyncio.to_thread(self._mark_delivered, todo.row_id)
        if todo.menu is not None:
            await self.menus.show(channel, user_id, todo.menu)
        if not sent:
            log.error("messages for %s kept undelivered in the outbox", user_tag(user_id))
        if todo.later is not None:
            task = asyncio.create_task(self._run_later(channel, event_id, user_id, todo.later))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_later(self, channel: ChannelName, event_id: str, user_id: str, later: Any) -> None:
        """Slow work (a PDF sheet) after the reply; its result goes by push, once (retry key)."""
        try:
            messages = await asyncio.to_thread(self._later_messages, later)
        except Exception:  # the person is told; the error is for the operator
            log.exception("slow LINE work failed")
            messages = [text("產生失敗，請稍後再試一次。")]
        await self.sender.push(channel, user_id, messages, retry_key(channel, event_id + ":later"))

    def _later_messages(self, later: Any) -> list[dict[str, Any]]:
        kind, account_id = later
        assert kind == "sheet"
        from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet
        from hub.line.links import signed_url
        from hub.line.reads import enterprise_valid_passes
        from hub.models.identity import User

        with self.sessions() as db:
            account = db.get(User, account_id)
            if account is None or not account.active:
                return [text("您的身分已變更，無法產生列印檔。")]
            rows = enterprise_valid_passes(db, account)  # re-checks the role; audited
            db.commit()
            if not rows:
                return [text("目前沒有有效的通行碼可列印。")]
            pdf = render_pass_sheet([PassSheetItem.from_pass(p.text) for p in rows[:200]], per_page=4)
            token = secrets.token_urlsafe(16)
            self.sheets.put(token, pdf)
            url = signed_url(context_of(db), "sheet", token)
        more = f"（共 {len(rows)} 張，此檔含前 200 張）" if len(rows) > 200 else f"（共 {len(rows)} 張）"
        return [text(f"全體員工通行碼列印檔已完成{more}，連結 10 分鐘內有效：\n{url}")]

    def _mark_delivered(self, row_id: int) -> None:
        # A plain UPDATE: no session state to keep in step (the ORM's default evaluates the WHERE
        # against loaded objects first).
        with self.sessions() as db:
            db.execute(
                update(LineEvent)
                .where(LineEvent.id == row_id)
                .values(delivered_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            db.commit()

    async def drain(self) -> None:
        """Wait for slow work in progress (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        await self.sender.aclose()


class SheetCache:
    """PDF sheets made for the chat, kept for the lifetime of their links (in this process)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, bytes]] = {}

    def put(self, token: str, pdf: bytes) -> None:
        now = time.monotonic()
        self._items = {k: v for k, v in self._items.items() if v[0] > now}
        self._items[token] = (now + LINK_SECONDS, pdf)

    def get(self, token: str) -> bytes | None:
        item = self._items.get(token)
        return item[1] if item is not None and item[0] > time.monotonic() else None


def _incoming(channel: ChannelName, event: Any) -> Incoming | None:
    source = getattr(event, "source", None)
    user_id = getattr(source, "user_id", None)
    if not user_id:  # groups and rooms: the accounts talk to people one to one only
        return None
    if isinstance(event, FollowEvent):
        return Incoming(channel, "follow", user_id)
    if isinstance(event, UnfollowEvent):
        return Incoming(channel, "unfollow", user_id)
    if isinstance(event, PostbackEvent):
        return Incoming(channel, "postback", user_id, data=parse_postback(event.postback.data or ""))
    if isinstance(event, MessageEvent):
        if isinstance(event.message, TextMessageContent):
            return Incoming(channel, "text", user_id, text=event.message.text[:2000])
        return Incoming(channel, "other", user_id)
    return None


@router.post("/{channel}/webhook")
async def webhook(channel: str, request: Request) -> JSONResponse:
    """LINE's webhook for one official account."""
    service: LineService = request.app.state.line
    line_channel = service.channel(channel)
    signature = request.headers.get("X-Line-Signature")
    body = await request.body()
    if not signature:
        return JSONResponse({"error": "bad_signature", "detail": "X-Line-Signature missing"}, status_code=400)
    try:
        payload = line_channel.parser.parse(body.decode("utf-8"), signature, as_payload=True)
    except InvalidSignatureError:
        return JSONResponse({"error": "bad_signature", "detail": "signature does not match"}, status_code=400)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return JSONResponse({"error": "bad_request", "detail": "not a webhook body"}, status_code=400)
    for event in payload.events or []:
        await service.process(line_channel, event)
    return JSONResponse({})
