"""The LINE webhook inbox (hub.jobs.line_inbox): every event whose signature held, stored before the webhook
is answered, handled and replied to from here by the inbox worker of any hub process. Migration 0009.

One row per (channel, webhookEventId): a redelivery of a stored event is not stored again. A row is
pending until `done_at`; the worker that holds its lease (`lease_owner` until `lease_until`) is the only
one working on it, and only the oldest pending row of a LINE user may be taken, so one user's events are
handled one after the other in the order they were stored. `content` and `reply_token` (a person's words
and a token that answers them) are cleared when the row is done.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow


class LineInboxEntry(Base):
    __tablename__ = "line_inbox"
    __table_args__ = (
        UniqueConstraint("channel", "webhook_event_id", name="uq_line_inbox_channel_event"),
        # the claim: pending rows in order, and "is there an older pending row of this user"
        Index("ix_line_inbox_pending", "done_at", "id"),
        Index("ix_line_inbox_user", "channel", "line_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # arrival order
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    webhook_event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    line_user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # follow, unfollow, text, postback, other
    content: Mapped[str | None] = mapped_column(String(2000))  # the text, or the postback's data
    reply_token: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
