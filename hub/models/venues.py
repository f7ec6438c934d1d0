"""Venue codes (實聯碼) and the visits recorded when someone scans one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow
from hub.models._columns import Timestamps


class Venue(Timestamps, Base):
    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(8), nullable=False)  # the city's limit: 8 characters
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)  # what the QR carries


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_mobile_at", "mobile", "visited_at"),
        Index("ix_visits_venue_at", "venue_id", "visited_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), nullable=False)
    mobile: Mapped[str] = mapped_column(String(16), nullable=False)
    visited_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
