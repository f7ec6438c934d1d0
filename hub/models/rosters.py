"""Whitelists kept by organisations: a station's duty officers and an enterprise's employees."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.models._columns import ProtectedNationalId, Timestamps


class Officer(Timestamps, Base):
    """A duty officer on a station's whitelist (name, officer number, mobile)."""

    __tablename__ = "officers"
    __table_args__ = (
        UniqueConstraint("station_id", "mobile", name="uq_officers_station_mobile"),
        UniqueConstraint("station_id", "officer_number", name="uq_officers_station_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    officer_number: Mapped[str] = mapped_column(String(32), nullable=False)
    mobile: Mapped[str] = mapped_column(String(16), nullable=False, index=True)


class Employee(Timestamps, ProtectedNationalId, Base):
    """An employee on an enterprise's pass whitelist (name, mobile, national ID)."""

    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("org_id", "mobile", name="uq_employees_org_mobile"),
        UniqueConstraint("org_id", "national_id_hash", name="uq_employees_org_national_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    mobile: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
