"""The append-only audit log. Migrations add triggers that refuse UPDATE and DELETE on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String
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


# The transparency log over the audit events (hub.services.transparency_log, docs/audit-log.md). These
# tables hold hashes and signatures only, no personal data.


class AuditLeaf(Base):
    """Audit event `event_id` is leaf `leaf_index` of the log; `leaf_hash` is what the tree was built
    from. Written once, by the job that signs tree heads; deleted only with a signed purge."""

    __tablename__ = "audit_log_leaves"

    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class AuditTreeHead(Base):
    """A signed tree head, with what the next one needs: the tree's frontier (to append without reading
    old leaves) and the consistency proof from the head before it (served to auditors)."""

    __tablename__ = "audit_log_heads"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    timestamp: Mapped[int] = mapped_column(Integer, nullable=False)  # Unix seconds, as signed
    kid: Mapped[str] = mapped_column(String(16), nullable=False)  # hex
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    previous_size: Mapped[int | None] = mapped_column(Integer)
    consistency: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, default=b"")
    last_event_id: Mapped[int] = mapped_column(Integer, nullable=False)


class AuditLogPurge(Base):
    """A signed record that leaves [0, tree_size) were deleted, with their frontier."""

    __tablename__ = "audit_log_purges"

    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timestamp: Mapped[int] = mapped_column(Integer, nullable=False)
    kid: Mapped[str] = mapped_column(String(16), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
