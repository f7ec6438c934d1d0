"""Enterprises and police stations: the organisations that roles are scoped to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

# The columns' values (hub/core/vocabulary.py), still found next to their tables:
from hub.core.vocabulary import OrgKind as OrgKind
from hub.core.vocabulary import ReviewState
from hub.db import Base, UtcDateTime, utcnow
from hub.models._columns import Timestamps


class Organisation(Timestamps, Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    ubn: Mapped[str | None] = mapped_column(String(8), index=True)  # 統一編號 (stations may have none)
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(16))


class RegistrationClaim(Base):
    """A registration for a 統一編號 that already has an enterprise, held for a hub admin's review.

    Whoever registers a 統一編號 first owns it; a second claimant is neither refused silently nor let in:
    the claim waits here. Approving makes the claimant another admin of that enterprise; refusing leaves
    it as it was. The enterprise and its admins are untouched until a hub admin decides.
    """

    __tablename__ = "registration_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ubn: Mapped[str] = mapped_column(String(8), nullable=False)
    company_name: Mapped[str] = mapped_column(String(100), nullable=False)
    admin_name: Mapped[str] = mapped_column(String(64), nullable=False)
    admin_mobile: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(
        String(16), nullable=False, default=ReviewState.PENDING.value, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
