"""Reading the scan log (the police check register). Rows carry no personal data by construction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models.devices import Device, Scan


@dataclass(frozen=True)
class ScanRecord:
    event_id: str
    device_id: str
    device_name: str
    seq: int
    officer_id: str | None
    scanned_at: dt.datetime
    received_at: dt.datetime
    ok: bool
    reason: str
    pass_id: str | None
    issuer_kid: str | None
    serial: int | None
    trust_age_s: int | None
    stale: bool


def scans_by_officer(
    db: Session, officer_id: int | str, since: dt.datetime, until: dt.datetime, *, limit: int | None = None
) -> list[ScanRecord]:
    """Scans made by `officer_id` with `since <= scanned_at < until`, oldest first."""
    query = (
        select(Scan, Device.name)
        .join(Device, Device.id == Scan.device_id)
        .where(Scan.officer_id == str(officer_id), Scan.scanned_at >= since, Scan.scanned_at < until)
        .order_by(Scan.scanned_at, Scan.device_id, Scan.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ScanRecord(
            event_id=scan.event_id,
            device_id=scan.device_id,
            device_name=name,
            seq=scan.seq,
            officer_id=scan.officer_id,
            scanned_at=scan.scanned_at,
            received_at=scan.received_at,
            ok=scan.ok,
            reason=scan.reason,
            pass_id=scan.pass_id,
            issuer_kid=scan.issuer_kid,
            serial=scan.serial,
            trust_age_s=scan.trust_age_s,
            stale=scan.stale,
        )
        for scan, name in db.execute(query)
    ]
