"""Checkpoint devices, their enrolment tokens, officers' offline credentials and the scan log.

The scan log keeps what a police check register needs and nothing more: which pass (its random id,
not the holder), the verdict and reason, which officer on which device, and when. Names, national
IDs and mobiles never reach these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime, utcnow

__all__ = ["Device", "EnrolmentToken", "OfficerDeviceLogin", "Scan", "ScanBatch"]


class Device(Base):
    """An enrolled checkpoint (phone or tablet). It signs its scan batches with its own Ed25519 key."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID, given at enrolment
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False, unique=True)
    # The station whose admin enrolled it; only that station's officers may log in on it.
    # None when a hub-wide admin enrolled it (any station's officers may then use it).
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True, index=True
    )
    enrolled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    enrolled_by: Mapped[int | None] = mapped_column(Integer)  # user id; no FK: outlives the user
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[int | None] = mapped_column(Integer)
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
    # What the device last told the hub about itself (docs/checkpoint-sync.md, "Device report"): the
    # hub's time of its last stored batch, the app version and the outbox behind that batch.
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    app_version: Mapped[str | None] = mapped_column(String(32))
    queue_waiting: Mapped[int | None] = mapped_column(Integer)
    queue_oldest_age_s: Mapped[int | None] = mapped_column(Integer)
    queue_reported_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class EnrolmentToken(Base):
    """A one-time token an admin hands to a device (as a QR). Only its SHA-256 is stored."""

    __tablename__ = "device_enrolment_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))


class OfficerDeviceLogin(Base):
    """An officer's login on a device: pending until the SMS code is confirmed, then a credential."""

    __tablename__ = "officer_device_logins"
    __table_args__ = (Index("ix_officer_device_logins_device_mobile", "device_id", "mobile"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), nullable=False)
    officer_id: Mapped[int] = mapped_column(
        ForeignKey("officers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # E.164 of the pending login, needed to match the verify call; cleared once verified.
    mobile: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    credential_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class ScanBatch(Base):
    """A signed upload from a device; its id is single-use so a replayed request is refused."""

    __tablename__ = "scan_batches"

    batch_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), nullable=False, index=True)
    sent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    events: Mapped[int] = mapped_column(Integer, nullable=False)
    accepted: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False)


class Scan(Base):
    """One verdict made at a checkpoint. Unique by event id and by (device, seq): uploads are idempotent."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="uq_scans_device_seq"),
        Index("ix_scans_officer_scanned", "officer_id", "scanned_at"),
        Index("ix_scans_scanned_at", "scanned_at"),
    )

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # canonical lowercase UUID
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    batch_id: Mapped[str] = mapped_column(String(36), nullable=False)  # no FK: purged independently
    scanned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)  # device wall clock
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)  # hub clock
    hlc: Mapped[str] = mapped_column(String(64), nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    pass_id: Mapped[str | None] = mapped_column(String(32))  # hex of the pass's random 16-byte cti
    officer_id: Mapped[str | None] = mapped_column(String(32))
    issuer_kid: Mapped[str | None] = mapped_column(String(16))
    serial: Mapped[int | None] = mapped_column(BigInteger)
    trust_age_s: Mapped[int | None] = mapped_column(BigInteger)
    stale: Mapped[bool] = mapped_column(Boolean, nullable=False)
