"""The LINE webhook events handled, each once (table `line_events`): an event is recorded in the same
transaction as what it changed, with the messages it answers kept until LINE accepted them, so a crash
between the commit and the send loses no answer and a redelivered event changes nothing twice
(hub/line/webhook.py sends, hub/jobs/line_inbox.py works the events off)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, select, update
from sqlalchemy.orm import Session

from hub.core.vocabulary import ChannelName
from hub.db import utcnow
from hub.models.line import LineEvent


def handled_event(db: Session, channel: ChannelName, webhook_event_id: str) -> LineEvent | None:
    """The event's record if it was handled before (its answer may still be undelivered)."""
    return db.scalars(
        select(LineEvent).where(
            LineEvent.channel == channel.value, LineEvent.webhook_event_id == webhook_event_id
        )
    ).first()


def record_event(db: Session, channel: ChannelName, webhook_event_id: str, line_user_id: str) -> LineEvent:
    """The event is being handled now: its record, in the transaction of what it changes."""
    row = LineEvent(channel=channel.value, webhook_event_id=webhook_event_id, line_user_id=line_user_id)
    db.add(row)
    db.flush()
    return row


def keep_answer(row: LineEvent, messages: list[dict[str, Any]]) -> None:
    """The messages the event answers, kept until LINE accepts them; no messages: nothing to deliver."""
    row.reply = messages or None
    if not messages:
        row.delivered_at = utcnow()


def delivered(row_id: int) -> Executable:
    """The statement that marks an event's answer delivered, run in the inbox's own transaction."""
    return (
        update(LineEvent)
        .where(LineEvent.id == row_id)
        .values(delivered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
