"""The LINE webhook events handled, each once (table `line_events`): an event is recorded in the same
transaction as what it changed, with the messages it answers kept until LINE accepted them, so a crash
between the commit and the send loses no answer and a redelivered event changes nothing twice
(hub/line/webhook.py sends, hub/jobs/line_inbox.py works the events off)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Executable, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from hub.core.vocabulary import ChannelName
from hub.db import UtcDateTime, utcnow
from hub.models.line import LineEvent

# Core statements on the table, built once and run on the session's connection: one built per call, and
# the ORM around it, cost more CPU per LINE event than the database's work (py-spy under bench/line.py,
# 2026-12-07).
_TABLE = LineEvent.__table__
_c = _TABLE.c
_HANDLED = select(_c.id, _c.reply, _c.delivered_at, _c.received_at).where(
    _c.channel == bindparam("p_channel"), _c.webhook_event_id == bindparam("p_event")
)
_RECORD = insert(_TABLE).returning(_c.id)
_DELIVERED = (
    update(_TABLE)
    .where(_c.id == bindparam("p_id"))
    .values(delivered_at=bindparam("p_at", type_=UtcDateTime()))
)


def handled_event(
    db: Session, channel: ChannelName, webhook_event_id: str
) -> Row[tuple[int, list[dict[str, Any]] | None, dt.datetime | None, dt.datetime]] | None:
    """The event's record (id, reply, delivered_at, received_at) if it was handled before (its answer may
    still be undelivered)."""
    found = db.connection().execute(_HANDLED, {"p_channel": channel.value, "p_event": webhook_event_id})
    return found.first()  # type: ignore[return-value]


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
    one event: the inbox row is checked to be the holder's under the write lock first
    (hub/jobs/line_inbox.py `hold`, `keep`), and the unique (channel, webhook_event_id) would refuse
    the second."""
    now = utcnow()
    row = {
        "channel": channel.value,
        "webhook_event_id": webhook_event_id,
        "line_user_id": line_user_id,
        "received_at": now,
        "reply": messages or None,
        "delivered_at": None if messages else now,
    }
    return db.connection().execute(_RECORD, row).scalar_one()


def delivered(row_id: int) -> tuple[Executable, dict[str, Any]]:
    """The statement (and its parameters) that marks an event's answer delivered, run in the inbox's own
    transaction."""
    return _DELIVERED, {"p_id": row_id, "p_at": utcnow()}
