"""`POST /line/enterprise/webhook` and `POST /line/police/webhook`, and handling what they stored.

The signature is checked by the SDK's `WebhookParser` over the raw body (400 on a bad or missing one,
nothing done). The events are stored in the inbox (hub/jobs/line_inbox.py) and the webhook is answered 200 at
once. The inbox worker then handles each event once: its `webhookEventId` is recorded in `line_events`
in the same transaction as what the event changed, together with the messages to send (the outbox);
then the reply goes out (push with the event's retry key once the reply token is too old or refused)
and the row is marked delivered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import (
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)
from sqlalchemy.orm import Session, sessionmaker

from hub.context import context_of
from hub.core.config import Settings
from hub.core.vocabulary import ChannelName
from hub.jobs.line_inbox import Inbox, NewEvent, Result, Taken
from hub.jobs.line_inbox import Outcome as Worked
from hub.line.channels import LineChannel, configured_channels
from hub.line.conversation import Incoming, handle, parse_postback
from hub.line.delivery import Pushed, Sender, retry_key
from hub.line.links import LINK_SECONDS
from hub.line.menus import MenuLinker
from hub.line.messages import text
from hub.line.replies import Outcome
from hub.line.words import t
from hub.services import identity, line_events, support
from hub.services.line_bindings import user_tag

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/line/{channel}/webhook"

# LINE's reply tokens can be used once, within about a minute of the event; an older one is not tried
# (the messages go by push with the retry key), with a margin for the reply's own retries.
REPLY_TOKEN_SECONDS = 45


@dataclass
class _Todo:
    row_id: int
    messages: list[dict[str, Any]]
    menu: str | None
    reply_token: str | None  # None: the reply window is gone, push instead
    later: Any = None
    # the row's previous holder replied with this token (or was about to) and died before marking it
    replied_before: bool = False


def _token_fresh(entry: Taken) -> bool:
    return dt.datetime.now(dt.UTC) - entry.received_at < dt.timedelta(seconds=REPLY_TOKEN_SECONDS)


class LineService:
    """Everything the webhooks need, kept on `app.state.line`."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.channels = configured_channels(settings)
        self.sender = Sender(self.channels, settings.line_api_url)
        self.menus = MenuLinker(self.sender)
        self.sheets = SheetCache()
        self.inbox = Inbox(
            sessions,
            self.process,
            parallel=settings.line_inbox_parallel,
            attempt_seconds=settings.line_inbox_attempt_seconds,
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def channel(self, name: str) -> LineChannel:
        try:
            return self.channels[ChannelName(name)]
        except (ValueError, KeyError):
            raise HTTPException(404, "no such LINE channel") from None

    def start(self) -> None:
        """Start this process's inbox worker (the app's lifespan, on the serving event loop)."""
        self.inbox.start()

    async def process(self, entry: Taken) -> Worked:
        """Handle one stored event (once: `line_events`) and send what it answers."""
        channel = ChannelName(entry.channel)
        # The greeting says the person's LINE display name: asked before handling (an HTTP call has no
        # place inside the transaction), tolerated when LINE does not give it.
        name = await self.sender.display_name(channel, entry.line_user_id) if entry.kind == "follow" else None
        todo = await asyncio.to_thread(self._handle_once, entry, name)
        if todo is None:
            return Worked(Result.LOST)
        sent = not todo.messages
        if todo.messages and todo.reply_token:
            replied = await self.sender.reply(channel, todo.reply_token, todo.messages)
            # LINE refuses a token that is spent or expired; this one is not expired (_handle_once), so a
            # refusal after the previous holder's try means that reply went through: pushing would double it
            sent = replied is Pushed.SENT or (todo.replied_before and replied is Pushed.REFUSED)
        result = Result.DONE
        if not sent:
            key = retry_key(channel, entry.webhook_event_id)
            pushed = await self.sender.push(channel, entry.line_user_id, todo.messages, key)
            sent = pushed is Pushed.SENT
            if pushed is Pushed.FAILED:
                result = Result.LATER  # LINE unreachable: the inbox tries again, the outbox keeps them
            elif pushed is Pushed.REFUSED:
                log.error("messages for %s refused by LINE; kept undelivered", user_tag(entry.line_user_id))
        menu = todo.menu
        then = None if menu is None else (lambda: self.menus.show(channel, entry.line_user_id, menu))
        if todo.later is not None:
            task = asyncio.create_task(
                self._run_later(channel, entry.webhook_event_id, entry.line_user_id, todo.later)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        delivered = line_events.delivered(todo.row_id)
        return Worked(result, (delivered,) if sent and todo.messages else (), then)

    def _handle_once(self, entry: Taken, display_name: str | None = None) -> _Todo | None:
        """In one transaction: check the lease (None if it was lost: Inbox.hold, Inbox.keep), record the
        event and what it changed with the messages to send. An event recorded before (its inbox row was
        tried already, or purged and the event redelivered) is not handled again: only its undelivered
        messages go."""
        channel = ChannelName(entry.channel)
        with self.sessions() as db:
            if not Inbox.hold(db, entry):
                db.rollback()
                return None
            seen = line_events.handled_event(db, channel, entry.webhook_event_id)
            if seen is not None:
                db.commit()
                undelivered = list(seen.reply or []) if seen.delivered_at is None else []
                # attempts == 0 with the token still kept: the holder before handled this very row (the
                # event's row in line_events is newer than it) and went for the reply, then died unmarked
                mid_reply = (
                    bool(undelivered)
                    and entry.attempts == 0
                    and entry.reply_token is not None
                    and seen.received_at >= entry.received_at
                    and _token_fresh(entry)
                )
                token = entry.reply_token if mid_reply else None
                return _Todo(seen.id, undelivered, None, token, replied_before=mid_reply)
            incoming = Incoming(
                channel,
                entry.kind,
                entry.line_user_id,
                text=(entry.content or "") if entry.kind in ("text", support.REPLY_KIND) else "",
                data=parse_postback(entry.content or "") if entry.kind == "postback" else {},
                display_name=display_name,
            )
            outcome: Outcome = handle(db, incoming)
            if not Inbox.keep(db, entry):
                db.rollback()
                return None
            row_id = line_events.record_event(
                db, channel, entry.webhook_event_id, entry.line_user_id, outcome.messages
            )
            db.commit()
            token = entry.reply_token if entry.attempts == 0 and _token_fresh(entry) else None
            return _Todo(row_id, outcome.messages, outcome.menu, token, outcome.later)

    async def _run_later(self, channel: ChannelName, event_id: str, user_id: str, later: Any) -> None:
        """Slow work (a PDF sheet) after the reply; its result goes by push, once (retry key)."""
        try:
            messages = await asyncio.to_thread(self._later_messages, later)
        except Exception:  # the person is told; the error is for the operator
            log.exception("slow LINE work failed")
            messages = [text(t("line.sheet.failed"))]
        await self.sender.push(channel, user_id, messages, retry_key(channel, event_id + ":later"))

    def _later_messages(self, later: Any) -> list[dict[str, Any]]:
        kind, account_id = later

        with self.sessions() as db:
            account = identity.active_account(db, account_id)
            if account is None:
                return [text(t("line.sheet.role_lost"))]
            if kind == "venue_posters":
                return self._venue_posters(db, account)
            assert kind == "sheet"
            return self._pass_sheet(db, account)

    def _pass_sheet(self, db: Session, account: Any) -> list[dict[str, Any]]:
        from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet
        from hub.services.valid_passes import enterprise_valid_passes

        rows = enterprise_valid_passes(db, account)  # re-checks the role; audited
        db.commit()
        if not rows:
            return [text(t("line.sheet.empty"))]
        pdf = render_pass_sheet([PassSheetItem.from_pass(p.text) for p in rows[:200]], per_page=4)
        url = self._kept_link(db, "sheet", pdf)
        if len(rows) > 200:
            return [text(t("line.sheet.ready_first", n=len(rows), first=200, url=url))]
        return [text(t("line.sheet.ready", n=len(rows), url=url))]

    def _venue_posters(self, db: Session, account: Any) -> list[dict[str, Any]]:
        """The organisation's venue-code posters, read with the account's Scope again (its role may have
        gone since the tap): the same file as the console's and REST's (`downloads.venue_posters`)."""
        from hub.services import downloads
        from hub.services.errors import DomainError
        from hub.services.scope import Scope

        if account.org_id is None:
            return [text(t("line.sheet.role_lost"))]
        try:
            poster = downloads.venue_posters(db, Scope.of(account), org_id=account.org_id)
        except DomainError:  # no venue code left, or no longer the organisation's admin
            return [text(t("line.posters.none"))]
        url = self._kept_link(db, "posters", poster.content)
        return [text(t("line.posters.ready", url=url))]

    def _kept_link(self, db: Session, kind: str, pdf: bytes) -> str:
        """A PDF kept in this process for its link's lifetime, and that link (hub.line.links)."""
        from hub.line.links import signed_url

        token = secrets.token_urlsafe(16)
        self.sheets.put(token, pdf)
        return signed_url(context_of(db), kind, token)

    async def drain(self) -> None:
        """Wait until the inbox is worked off and slow work is done (tests, the benchmark, shutdown)."""
        await self.inbox.drain()
        await self.inbox.on_worker_loop(self._finish_later_work)

    async def _finish_later_work(self) -> None:
        while self._tasks:  # started by the inbox worker, on its loop
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.inbox.on_worker_loop(self._finish_later_work)
        await self.inbox.stop()
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


def _entry(channel: ChannelName, event: Any) -> NewEvent | None:
    """What the inbox keeps of an event; None for events the accounts do not answer."""
    source = getattr(event, "source", None)
    user_id = getattr(source, "user_id", None)
    event_id = getattr(event, "webhook_event_id", None)
    if not user_id or not event_id:  # groups and rooms: the accounts talk to people one to one only
        return None
    content: str | None = None
    if isinstance(event, FollowEvent):
        kind = "follow"
    elif isinstance(event, UnfollowEvent):
        kind = "unfollow"
    elif isinstance(event, PostbackEvent):
        kind, content = "postback", (event.postback.data or "")[:2000]
    elif isinstance(event, MessageEvent):
        if isinstance(event.message, TextMessageContent):
            kind, content = "text", event.message.text[:2000]
        else:
            kind = "other"
    else:
        return None
    token = getattr(event, "reply_token", None)
    return NewEvent(channel.value, event_id, user_id, kind, content, token)


async def webhook(request: Request) -> JSONResponse:
    """LINE's webhook for one official account: a plain Starlette route (`WEBHOOK_PATH`, put on the app
    by hub/line/app.py), not a FastAPI one. It has no parameters to validate and no dependencies, and
    FastAPI's dependency solving around it (the path, query, header and cookie parameters of every
    request, the app-wide id check) cost about a sixth of what the hub spends receiving a webhook (py-spy
    under bench/line.py, 2026-12-07)."""
    channel = request.path_params["channel"]
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
    entries = [e for event in payload.events or [] if (e := _entry(line_channel.name, event)) is not None]
    if entries:
        # Stored before the 200: once LINE is answered, the event is the hub's to handle (a failure here
        # is a 5xx, and LINE may redeliver). The rows this process's worker has room for are its own at once.
        await service.inbox.accept(entries)
    return JSONResponse({})
