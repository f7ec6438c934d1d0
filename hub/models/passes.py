"""Issued passes. The signed `TP1:` text is kept so that a holder can download it again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow


class Pass(Base):
    __tablename__ = "passes"
    __table_args__ = (UniqueConstraint("issuer_kid", "serial", name="uq_passes_issuer_serial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pass_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)  # cti, hex
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # SET NULL: deleting a whitelist entry must not erase the register of passes issued to it
    employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), index=True
    )
    holder_name: Mapped[str] = mapped_column(String(64), nullable=False)
    holder_mobile: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    national_id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    masked_national_id: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="employee")
    issuer_kid: Mapped[str] = mapped_column(String(16), nullable=False)  # hex
    serial: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)  # "TP1:..."
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow, index=True)
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
