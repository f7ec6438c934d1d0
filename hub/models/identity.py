"""People who log in, their sessions and their one-time SMS codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The columns' values (hub/core/vocabulary.py), still found next to their tables:
from hub.core.vocabulary import CONSOLE_ROLES as CONSOLE_ROLES
from hub.core.vocabulary import Role as Role
from hub.db import Base, UtcDateTime, utcnow
from hub.models._columns import ProtectedNationalId, Timestamps


class User(Timestamps, ProtectedNationalId, Base):
    """An account. Identified by mobile (E.164); one account per (mobile, role, organisation).

    Console roles (super/general admin) log in with a password; the others with an SMS code.
    Officers and employees get an account the first time they log in, linked to their roster entry.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("mobile", "role", "org_id", name="uq_users_mobile_role_org"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(24), nullable=False)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    # General admins: the permissions a super admin (or a general admin, within its own) granted.
    permissions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())  # first successful login
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))

    organisation = relationship("Organisation", foreign_keys=[org_id], lazy="joined")


class ApiToken(Base):
    """A bearer session. Only a SHA-256 of the token is stored, so a dump cannot be replayed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    client_ip: Mapped[str | None] = mapped_column(String(64))


class OtpCode(Base):
    """One SMS code sent. Rows double as the send log that the hourly/daily caps count."""

    __tablename__ = "otp_codes"
    __table_args__ = (
        Index("ix_otp_codes_mobile_purpose_created", "mobile", "purpose", "created_at"),
        Index("ix_otp_codes_ip_created", "client_ip", "created_at"),
        Index("ix_otp_codes_line_user_created", "line_user", "created_at"),
        Index("ix_otp_codes_venue_created", "venue_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(16), nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # keyed BLAKE2b, never the code
    client_ip: Mapped[str | None] = mapped_column(String(64))
    # Who else the caps count (hub.services.otp): the LINE user of a LIFF form
    # (hub.services.line_bindings.user_tag, never the LINE ID) and the venue of a check-in code. No foreign
    # key: the send log outlives a venue.
    line_user: Mapped[str | None] = mapped_column(String(24))
    venue_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # used / voided (by a newer code) / exhausted (too many wrong tries): any of them kills the code
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="live")
