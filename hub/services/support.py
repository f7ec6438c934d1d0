"""詢問客服 (LINE support): messages a LINE chat hands over to a human, stored for the console.

The console calls `list_support_messages(db, actor, ...)`, `mark_handled(...)` and `reply(...)`; only hub
admins (super admin, general admin) may read and answer them. The mobile of a bound sender is masked,
like every other page's; a reader holding the unmask permission may ask for it in clear (`unmask=True`),
and that read is audited, with the reason the console made them give (the queries' pattern,
hub.console.pages_data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.masking import show_mobile
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.i18n import catalogue
from hub.models.identity import User
from hub.models.line import ChannelName, LineEvent, LineSupportMessage
from hub.models.line_inbox import LineInboxEntry
from hub.services import audit
from hub.services.errors import Conflict, Invalid, NotAllowed, NotFound
from hub.services.scope import has_permission, is_hub_admin

MAX_TEXT = 2000
MAX_REPLY = 1000  # one chat message, read on a phone
REPLY_KIND = "support_reply"  # the inbox row's kind: never one a webhook stores (hub.line.webhook._entry)
MAX_LISTED = 500  # messages on one page, at most


@dataclass(frozen=True)
class SupportMessage:
    id: int
    channel: str
    sender: str  # the bound person's mobile (masked unless unmask is allowed), or `line.support.unbound`
    text: str
    created_at: dt.datetime  # UTC; the console shows Asia/Taipei
    handled_at: dt.datetime | None
    replied_at: dt.datetime | None = None  # when the console's answer was handed to the LINE outbox
    reply_sent: bool = False  # LINE accepted the answer (pushed to the person)


def store(db: Session, channel: ChannelName, line_user_id: str, mobile: str | None, text: str) -> None:
    db.add(
        LineSupportMessage(
            channel=channel.value, line_user_id=line_user_id, mobile=mobile, text=text.strip()[:MAX_TEXT]
        )
    )


def _require_admin(actor: User) -> None:
    if not is_hub_admin(actor):
        raise NotAllowed("only hub administrators read support messages")


def list_support_messages(
    db: Session,
    actor: User,
    *,
    channel: ChannelName | None = None,
    unhandled_only: bool = True,
    limit: int = 100,
    unmask: bool = False,
    client_ip: str | None = None,
) -> list[SupportMessage]:
    """The newest support messages first, senders' mobiles masked unless `unmask` is asked for (and
    allowed: NotAllowed otherwise)."""
    _require_admin(actor)
    if unmask and not has_permission(actor, Permission.PERSONAL_DATA_UNMASK):
        raise NotAllowed("showing personal data in clear needs personal_data.unmask")
    query = select(LineSupportMessage).order_by(
        LineSupportMessage.created_at.desc(), LineSupportMessage.id.desc()
    )
    if channel is not None:
        query = query.where(LineSupportMessage.channel == channel.value)
    if unhandled_only:
        query = query.where(LineSupportMessage.handled_at.is_(None))
    rows = db.scalars(query.limit(max(1, min(limit, MAX_LISTED)))).all()
    replies = _replies(db, rows)
    if unmask:
        audit.record(
            db, "line.support.read", actor=actor, client_ip=client_ip, count=len(rows), unmasked=True
        )
        db.commit()
    return [
        SupportMessage(
            id=r.id,
            channel=r.channel,
            sender=show_mobile(r.mobile, unmask)
            if r.mobile
            else catalogue.text(catalogue.DEFAULT_LANGUAGE, "line.support.unbound"),
            text=r.text,
            created_at=r.created_at,
            handled_at=r.handled_at,
            replied_at=replies[r.id][0] if r.id in replies else None,
            reply_sent=replies[r.id][1] if r.id in replies else False,
        )
        for r in rows
    ]


def _reply_event_id(message_id: int) -> str:
    """The reply's id in the LINE inbox and outbox: one answer per message, so a second is refused."""
    return f"support-reply:{message_id}"


def _replies(db: Session, rows: Sequence[LineSupportMessage]) -> dict[int, tuple[dt.datetime, bool]]:
    """message id → (answered at, LINE accepted it), from the LINE inbox and outbox rows of the replies."""
    ids = {_reply_event_id(r.id): r.id for r in rows}
    if not ids:
        return {}
    answered = db.execute(
        select(LineInboxEntry.webhook_event_id, LineInboxEntry.received_at).where(
            LineInboxEntry.webhook_event_id.in_(ids)
        )
    ).all()
    sent = set(
        db.scalars(
            select(LineEvent.webhook_event_id).where(
                LineEvent.webhook_event_id.in_(ids), LineEvent.delivered_at.is_not(None)
            )
        )
    )
    return {ids[event]: (at, event in sent) for event, at in answered}


def reply(db: Session, actor: User, message_id: int, text: str, *, client_ip: str | None = None) -> None:
    """Answer a support message in LINE: the answer is handed to the LINE inbox as the person's next
    event (hub.jobs.line_inbox), so it is pushed in order with their other events, once (the push's retry key
    is the reply's id), and tried again while LINE cannot be reached. The message is then handled.
    Audited (the answer's length, never its words: they may name the person)."""
    _require_admin(actor)
    words = text.strip()
    if not words:
        raise Invalid("the answer is empty", field="reply")
    if len(words) > MAX_REPLY:
        raise Invalid(f"at most {MAX_REPLY} characters", field="reply")
    row = db.get(LineSupportMessage, message_id)
    if row is None:
        raise NotFound("support message")
    event_id = _reply_event_id(message_id)
    if db.scalars(select(LineInboxEntry.id).where(LineInboxEntry.webhook_event_id == event_id)).first():
        raise Conflict("this message was answered already", reason="already_answered")
    now = utcnow()
    db.add(
        LineInboxEntry(
            channel=row.channel,
            webhook_event_id=event_id,
            line_user_id=row.line_user_id,
            kind=REPLY_KIND,
            content=words,
            reply_token=None,  # nothing to reply to: it goes by push
            received_at=now,
            attempts=0,
        )
    )
    if row.handled_at is None:
        row.handled_at = now
    audit.record(
        db, "line.support.replied", actor=actor, target=str(message_id), client_ip=client_ip, chars=len(words)
    )
    db.commit()


def mark_handled(db: Session, actor: User, message_id: int) -> None:
    _require_admin(actor)
    row = db.get(LineSupportMessage, message_id)
    if row is None:
        raise NotFound("support message")
    if row.handled_at is None:
        row.handled_at = utcnow()
        audit.record(db, "line.support.handled", actor=actor, target=str(message_id))
    db.commit()
