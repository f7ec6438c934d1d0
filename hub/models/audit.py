"""The append-only audit log. Migrations add triggers that refuse UPDATE and DELETE on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: outlives the user
    actor_role: Mapped[str | None] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(48), nullable=False, index=True)
    target: Mapped[str | None] = mapped_column(String(128))
    # Never personal data in clear: masked values, ids and counts only.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    client_ip: Mapped[str | None] = mapped_column(String(64))
