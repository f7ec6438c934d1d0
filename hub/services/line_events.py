"""The LINE webhook events handled, each once (table `line_events`): an event is recorded in the same
transaction as what it changed, with the messages it answers kept until LINE accepted them, so a crash
between the commit and the send loses no answer and a redelivered event changes nothing twice
(hub/line/webhook.py sends, hub/jobs/line_inbox.py works the events off)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, insert, select, update
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


def record_event(
    db: Session,
    channel: ChannelName,
    webhook_event_id: str,
    line_user_id: str,
    messages: list[dict[str, Any]],
) -> int:
    """The event was handled: its record with the messages it answers, kept until LINE accepts them (no
    messages: nothing to deliver), in the transaction of what it changed; its id. One Core INSERT after
    the handling, not an ORM row flushed before it and updated after (that pair was about 5% of the
    hub's CPU per event: py-spy under bench/line.py, 2026-12-07). Two holders cannot both get here for
    one event: the inbox row's lock comes first (hub/jobs/line_inbox.py `hold`), and the unique
    (channel, webhook_event_id) would refuse the second."""
    now = utcnow()
    return db.execute(
        insert(LineEvent.__table__)
        .values(
            channel=channel.value,
            webhook_event_id=webhook_event_id,
            line_user_id=line_user_id,
            received_at=now,
            reply=messages or None,
            delivered_at=None if messages else now,
        )
        .returning(LineEvent.__table__.c.id)
    ).scalar_one()


def delivered(row_id: int) -> Executable:
    """The statement that marks an event's answer delivered, run in the inbox's own transaction."""
    return (
        update(LineEvent)
        .where(LineEvent.id == row_id)
        .values(delivered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
