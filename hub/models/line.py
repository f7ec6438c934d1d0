"""Tables of the LINE entries: webhook events seen (dedup + reply outbox), LINE-user bindings, the
step a chat is at, and messages handed over to a human (詢問客服). Migration 0005."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.vocabulary import ChannelName
from hub.db import Base, UtcDateTime, utcnow

__all__ = ["ChannelName", "LineBinding", "LineConversation", "LineEvent", "LineSupportMessage"]


class LineEvent(Base):
    """A webhook event handled once. Unique `webhook_event_id` per channel makes a redelivery a no-op;
    `reply` keeps the messages made for it until `delivered_at`, so a crash between the commit and the
    send is repaired when LINE redelivers (the messages then go by push with a retry key)."""

    __tablename__ = "line_events"
    __table_args__ = (UniqueConstraint("channel", "webhook_event_id", name="uq_line_events_channel_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    webhook_event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    line_user_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    reply: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class LineBinding(Base):
    """A LINE user of one channel bound to a person, known by the mobile the SMS code went to. The
    person's roles are looked up again on every event (role lost → binding removed)."""

    __tablename__ = "line_bindings"
    __table_args__ = (
        UniqueConstraint("channel", "line_user_id", name="uq_line_bindings_channel_user"),
        UniqueConstraint("channel", "mobile", name="uq_line_bindings_channel_mobile"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    line_user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    mobile: Mapped[str] = mapped_column(String(16), nullable=False)
    # The police channel's person is a name and a mobile (as the checkpoint app's officer login); None in
    # the enterprise channel, where the mobile alone names the person.
    name: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)


class LineConversation(Base):
    """Where a LINE user is in a multi-step chat (typing a mobile, a code, a message for 客服)."""

    __tablename__ = "line_conversations"
    __table_args__ = (UniqueConstraint("channel", "line_user_id", name="uq_line_conversations_channel_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    line_user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    step: Mapped[str] = mapped_column(String(24), nullable=False)
    mobile: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(64))  # the name typed at the police channel's first step
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)


class LineSupportMessage(Base):
    """A message for a human (詢問客服), listed on the console by `hub.services.support`."""

    __tablename__ = "line_support_messages"
    __table_args__ = (Index("ix_line_support_messages_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    line_user_id: Mapped[str] = mapped_column(String(64), nullable=False)
    mobile: Mapped[str | None] = mapped_column(String(16))  # of the bound person, if any
    text: Mapped[str] = mapped_column(String(2000), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
