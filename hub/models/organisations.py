"""Enterprises and police stations: the organisations that roles are scoped to."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.models._columns import Timestamps


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    STATION = "station"


class Organisation(Timestamps, Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    ubn: Mapped[str | None] = mapped_column(String(8), index=True)  # 統一編號 (stations may have none)
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(16))
