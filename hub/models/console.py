"""Web console sessions (server-side: the browser holds only a random id; see docs/console.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow


class ConsoleSession(Base):
    """One logged-in browser. Only a SHA-256 of the cookie value is stored, so a dump cannot be replayed."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)  # per session, sent with each form
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)  # absolute limit
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())  # logout, logout everywhere
    client_ip: Mapped[str | None] = mapped_column(String(64))


class ConsoleIntent(Base):
    """One submission of one rendered console form (its one-time intent token), so that the same form
    sent twice — a double click, a reload, two racing requests — acts once and answers the same
    (hub/services/console_intents.py). Only a SHA-256 of the token is stored."""

    __tablename__ = "console_intents"
    __table_args__ = (UniqueConstraint("session_id", "token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("console_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    # The answer the first submission gave (always a redirect); None while it is still being worked on.
    location: Mapped[str | None] = mapped_column(String(500))
