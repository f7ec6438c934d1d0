"""Retention: visits, scans and footprints older than `retention_days` are deleted.

Footprints are derived from visits, so purging visits purges them. Scans belong to the devices part;
their table is purged here too when it exists, so one job (scheduled in the app, or
`checkpass hub purge`) enforces the whole policy.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, inspect
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.db import Base, utcnow
from hub.models.identity import ApiToken, OtpCode
from hub.models.venues import Visit
from hub.services import audit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: dt.datetime
    visits: int
    scans: int
    otp_codes: int
    tokens: int


def purge_expired(db: Session, *, now: dt.datetime | None = None) -> PurgeResult:
    """Delete what the retention policy no longer allows to keep. Commits; records an audit event."""
    settings = context_of(db).settings
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=settings.retention_days)
    visits = db.execute(delete(Visit).where(Visit.visited_at < cutoff)).rowcount or 0
    scans = 0
    scans_table = Base.metadata.tables.get("scans")
    if (
        scans_table is not None
        and "scanned_at" in scans_table.c
        and inspect(db.get_bind()).has_table("scans")
    ):
        scans = db.execute(delete(scans_table).where(scans_table.c.scanned_at < cutoff)).rowcount or 0
    # Send logs of codes and expired sessions hold mobiles too; a day is all the rate caps need.
    otp_codes = (
        db.execute(delete(OtpCode).where(OtpCode.created_at < now - dt.timedelta(days=2))).rowcount or 0
    )
    tokens = db.execute(delete(ApiToken).where(ApiToken.expires_at < now)).rowcount or 0
    result = PurgeResult(cutoff=cutoff, visits=visits, scans=scans, otp_codes=otp_codes, tokens=tokens)
    audit.record(
        db,
        "retention.purge",
        cutoff=cutoff.isoformat(),
        visits=visits,
        scans=scans,
        otp_codes=otp_codes,
        tokens=tokens,
    )
    db.commit()
    log.info("retention purge: %s", result)
    return result
