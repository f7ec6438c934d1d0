"""Hub-side state of the issuer keys: serial allocation and revocation status lists.

The key files live in the KeyStore; what several hub processes must agree on (the next serial, which
serials are revoked and the status-list counter) lives here, in the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow


class IssuerKeyRecord(Base):
    __tablename__ = "issuer_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)  # hex
    next_serial: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status_counter: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)


class StatusEntry(Base):
    """A revoked serial; `counter` is the status-list counter the revocation produced (for deltas)."""

    __tablename__ = "status_entries"

    kid: Mapped[str] = mapped_column(ForeignKey("issuer_keys.kid", ondelete="CASCADE"), primary_key=True)
    serial: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, nullable=False)
    revoked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)


class SignedDocument(Base):
    """The latest signed trust bundle (and similar), shared by every hub process so ETags agree."""

    __tablename__ = "signed_documents"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_at: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
