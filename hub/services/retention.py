"""Retention: visits, scans, scan-batch records and footprints older than `retention_days` are deleted.

Footprints are derived from visits, so purging visits purges them. One job (scheduled in the app, or
`checkpass hub purge`) enforces the whole policy.

A scan-batch record (kept so a replayed upload is refused) goes with the same cutoff, by the time it
was received. Replay protection still holds after that: ingestion (hub.services.devices.ingestion)
rejects every event scanned before `now - retention_days`, the same cutoff the purge uses, so a batch
replayed after its record is gone brings back no purged scan; events it holds that are still stored
answer "duplicate" by their event id.

The LINE entries' records go with the same cutoff (docs/line.md, "Tables"): handled webhook events
(LINE user ids and the replies sent, which may name the person), unfinished chat steps (they can hold
the mobile being bound) and messages for 客服 (a person's own words and mobile). A webhook event
older than the cutoff cannot come back: LINE redelivers for hours, not weeks. Bindings are kept: they
are the person's current link, not a record of what happened, and are removed when the role goes.

Audit events older than the cutoff go only as a prefix of the audit log that a signed tree head covers,
under a signed purge record (hub.services.transparency_log.purge_prefix, docs/audit-log.md), so that the
events kept still verify against the heads the hub published.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.db import utcnow
from hub.models.devices import Scan, ScanBatch
from hub.models.identity import ApiToken, OtpCode
from hub.models.line import LineConversation, LineEvent, LineSupportMessage
from hub.models.line_inbox import LineInboxEntry
from hub.models.venues import Visit
from hub.services import audit, transparency_log

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: dt.datetime
    visits: int
    scans: int
    scan_batches: int
    otp_codes: int
    tokens: int
    line_events: int = 0
    line_conversations: int = 0
    line_support_messages: int = 0
    line_inbox: int = 0


def purge_expired(db: Session, *, now: dt.datetime | None = None) -> PurgeResult:
    """Delete what the retention policy no longer allows to keep. Commits; records an audit event."""
    settings = context_of(db).settings
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=settings.retention_days)
    visits = db.execute(delete(Visit).where(Visit.visited_at < cutoff)).rowcount or 0
    scans = db.execute(delete(Scan).where(Scan.scanned_at < cutoff)).rowcount or 0
    scan_batches = db.execute(delete(ScanBatch).where(ScanBatch.received_at < cutoff)).rowcount or 0
    # Send logs of codes and expired sessions hold mobiles too; a day is all the rate caps need.
    otp_codes = (
        db.execute(delete(OtpCode).where(OtpCode.created_at < now - dt.timedelta(days=2))).rowcount or 0
    )
    tokens = db.execute(delete(ApiToken).where(ApiToken.expires_at < now)).rowcount or 0
    line_events = db.execute(delete(LineEvent).where(LineEvent.received_at < cutoff)).rowcount or 0
    # Inbox rows: done ones hold only ids; a pending one that old was given up long ago (hub.jobs.line_inbox).
    line_inbox = db.execute(delete(LineInboxEntry).where(LineInboxEntry.received_at < cutoff)).rowcount or 0
    line_conversations = (
        db.execute(delete(LineConversation).where(LineConversation.updated_at < cutoff)).rowcount or 0
    )
    line_support_messages = (
        db.execute(delete(LineSupportMessage).where(LineSupportMessage.created_at < cutoff)).rowcount or 0
    )
    # Audit events go only as a signed prefix of the log, so what is kept still verifies (audit_log.purged).
    transparency_log.purge_prefix(db, cutoff=cutoff)
    result = PurgeResult(
        cutoff=cutoff,
        visits=visits,
        scans=scans,
        scan_batches=scan_batches,
        otp_codes=otp_codes,
        tokens=tokens,
        line_events=line_events,
        line_conversations=line_conversations,
        line_support_messages=line_support_messages,
        line_inbox=line_inbox,
    )
    audit.record(
        db,
        "retention.purge",
        cutoff=cutoff.isoformat(),
        visits=visits,
        scans=scans,
        scan_batches=scan_batches,
        otp_codes=otp_codes,
        tokens=tokens,
        line_events=line_events,
        line_conversations=line_conversations,
        line_support_messages=line_support_messages,
        line_inbox=line_inbox,
    )
    log.info("retention purge: %s", result)
    return result
