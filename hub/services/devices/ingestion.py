"""Scan-batch ingestion: device-signed, idempotent, one transaction and a few statements per batch.

docs/checkpoint-sync.md: the hub stores each event once (unique `event_id` and `(device_id, seq)`),
answers every event accepted / duplicate / rejected, and gives its own time so devices can see their
clock skew. A batch id is single-use: a replayed request is refused whole (409) and changes nothing.

Speed and exactness: the events go in as one `INSERT ... ON CONFLICT DO NOTHING RETURNING event_id`
statement (no ORM objects), so exactly the rows that were new come back, whatever other uploads run
at the same time. Only the events that did not come back cost another query, to tell a re-sent event
("duplicate") from a sequence number taken by a different event ("rejected"). Then the batch record
(`INSERT ... ON CONFLICT DO NOTHING` on its id) decides between commit and a 409 rollback.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crypto.keys import verify_signature
from hub import metrics
from hub.db import utcnow
from hub.models.devices import Device, Scan, ScanBatch
from hub.models.rosters import Officer
from hub.services.devices.device_report import record_sync
from hub.services.devices.scan_batch import BatchFormatError, canonical_uuid, parse_batch
from hub.services.errors import Conflict, NotAllowed, NotAuthenticated, Rejected, TooLarge

# docs/CONTRACTS.md: at most 1000 events per batch.
MAX_EVENTS_PER_BATCH = 1000

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"

_SCANS: Table = Scan.__table__  # type: ignore[assignment]
_BATCHES: Table = ScanBatch.__table__  # type: ignore[assignment]


# Ids per `IN (...)` lookup: well under every backend's bound-parameter limit.
ID_CHUNK = 500


@dataclass(frozen=True)
class BatchOutcome:
    server_time: int
    results: list[dict[str, Any]]
    accepted: int
    duplicates: int
    rejected: int


def _insert_ignoring_conflicts(db: Session, table: Table, returning: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING `returning`, for the session's database."""
    return _built_insert(db.get_bind().dialect.name, table, returning)


@functools.lru_cache(maxsize=8)
def _built_insert(dialect: str, table: Table, returning: str) -> Insert:
    # Built once per database kind: every batch runs two (docs/deploy.md, "The hub's own cost per request").
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    return stmt.returning(table.c[returning])


# The device's statements every batch runs, built once (as above).
_DEVICE_KEY = select(Device.public_key, Device.revoked_at).where(Device.id == bindparam("device_id"))
_DEVICE_STATION = select(Device.station_id).where(Device.id == bindparam("device_id"))
_STATION_OFFICERS = select(Officer.id).where(
    Officer.station_id == bindparam("station_id"), Officer.id.in_(bindparam("officer_ids", expanding=True))
)


# PostgreSQL: the whole batch goes in as one JSON parameter that the server unpacks with
# json_to_recordset. The statement text is short and constant, so psycopg rewrites it once and the server
# plans it once, and the rows are serialised by the C JSON encoder. (A multi-row VALUES list of 500 x 15
# placeholders costs psycopg ~0.1 s per batch just to rewrite; one array per column costs ~20 us per row
# to dump. See bench/ingest.py.)
_PG_INSERT_SCANS = text(
    f"""
    INSERT INTO {_SCANS.name} (event_id, device_id, seq, batch_id, scanned_at, received_at, hlc, ok, reason,
                               pass_id, officer_id, issuer_kid, serial, trust_age_s, stale)
    SELECT r.event_id, :device_id, r.seq, :batch_id, to_timestamp(r.scanned_at), :received_at, r.hlc, r.ok,
           r.reason, r.pass_id, r.officer_id, r.issuer_kid, r.serial, r.trust_age_s, r.stale
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        event_id varchar, seq bigint, scanned_at float8, hlc varchar, ok boolean, reason varchar,
        pass_id varchar, officer_id varchar, issuer_kid varchar, serial bigint, trust_age_s bigint,
        stale boolean)
    ON CONFLICT DO NOTHING
    RETURNING event_id
    """
)
_fromtimestamp = dt.datetime.fromtimestamp


def _insert_scans(
    db: Session, rows: list[dict[str, Any]], device_id: str, batch_id: str, received_at: dt.datetime
) -> set[str]:
    """Insert `rows`, skipping any that clash with a stored scan; the event ids actually inserted."""
    if db.get_bind().dialect.name == "postgresql":
        params = {
            "rows": json.dumps(rows, separators=(",", ":")),
            "device_id": device_id,
            "batch_id": batch_id,
            "received_at": received_at,
        }
        return set(db.execute(_PG_INSERT_SCANS, params).scalars())
    # SQLite: SQLAlchemy's insertmanyvalues renders one multi-row INSERT OR IGNORE ... RETURNING.
    utc = dt.UTC
    params_list = [
        {
            **row,
            "scanned_at": _fromtimestamp(row["scanned_at"], utc),
            "device_id": device_id,
            "batch_id": batch_id,
            "received_at": received_at,
        }
        for row in rows
    ]
    stmt = _insert_ignoring_conflicts(db, _SCANS, "event_id")
    return set(db.execute(stmt, params_list).scalars())


def _officers_of_station(db: Session, device_id: str, rows: list[dict[str, Any] | None]) -> set[str] | None:
    """The batch's officer ids that are on the duty whitelist of the device's station, so that a
    station's device writes only into its own station's check register. None for a device tied to no
    station (enrolled by a hub admin): its events may name any officer."""
    station_id = db.scalar(_DEVICE_STATION, {"device_id": device_id})
    if station_id is None:
        return None
    named = {int(r["officer_id"]) for r in rows if r and r["officer_id"] and str(r["officer_id"]).isdigit()}
    if not named:
        return set()
    found = db.scalars(_STATION_OFFICERS, {"station_id": station_id, "officer_ids": sorted(named)})
    return {str(i) for i in found}


def authenticate_device(
    db: Session, header_device_id: str | None, signature_b64: str | None, body: bytes
) -> str:
    """The device id, once the body's signature holds under that device's enrolled key.

    401 for an unknown device or a bad signature; 403 for a revoked device, checked only after the
    signature so that nobody learns a device's state without holding its key.
    """
    device_id = canonical_uuid(header_device_id)
    if device_id is None:
        raise NotAuthenticated(
            reason="unknown_device", detail="X-Device-Id header missing or not a device id"
        )
    row = db.execute(_DEVICE_KEY, {"device_id": device_id}).first()
    if row is None:
        raise NotAuthenticated(reason="unknown_device", detail="no enrolled device with this id")
    if not signature_b64:
        raise NotAuthenticated(reason="bad_signature", detail="X-Device-Signature header missing")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NotAuthenticated(reason="bad_signature", detail="X-Device-Signature is not base64") from exc
    if not verify_signature(row.public_key, body, signature):
        raise NotAuthenticated(
            reason="bad_signature", detail="signature does not match the body and the device key"
        )
    if row.revoked_at is not None:
        raise NotAllowed(reason="device_revoked", detail="this device has been revoked; enrol it again")
    return device_id


def ingest_batch(
    db: Session,
    *,
    header_device_id: str | None,
    signature_b64: str | None,
    body: bytes,
    max_events: int = MAX_EVENTS_PER_BATCH,
    retention_days: int | None = None,
    now: dt.datetime | None = None,
) -> BatchOutcome:
    """Authenticate, parse and store one batch; flushes (the caller's unit of work commits), or
    raises a DomainError; a refused batch changes nothing once the unit of work rolls back.

    Events scanned longer ago than `retention_days` are rejected: the purge would delete them at once,
    and refusing them keeps a batch replayed after its record was purged from bringing scans back.
    """
    device_id = authenticate_device(db, header_device_id, signature_b64, body)
    received_at = now or utcnow()
    try:
        batch = parse_batch(body, max_events=max_events)
    except BatchFormatError as exc:
        if exc.too_large:
            raise TooLarge(reason="batch_too_large", detail=exc.detail) from exc
        raise Rejected(reason="invalid_batch", detail=exc.detail) from exc
    if batch.device_id != device_id:
        raise NotAuthenticated(reason="device_mismatch", detail="body device_id differs from X-Device-Id")

    officers = _officers_of_station(db, device_id, batch.rows)

    statuses: list[str] = []
    errors = list(batch.errors)
    to_insert: list[dict[str, Any]] = []
    # Repeats inside one batch never reach the database: the first copy decides.
    seen_ids: set[str] = set()
    seen_seqs: set[int] = set()
    oldest = received_at.timestamp() - retention_days * 86400 if retention_days is not None else 0.0
    for i, row in enumerate(batch.rows):
        if row is None:
            statuses.append(REJECTED)
        elif row["scanned_at"] < oldest:
            statuses.append(REJECTED)
            errors[i] = f"scanned_at: older than the {retention_days}-day retention period"
        elif officers is not None and row["officer_id"] is not None and row["officer_id"] not in officers:
            statuses.append(REJECTED)
            errors[i] = "officer_id: not a duty officer of this device's station"
        elif row["event_id"] in seen_ids:
            statuses.append(DUPLICATE)
        elif row["seq"] in seen_seqs:
            statuses.append(REJECTED)
            errors[i] = f"seq {row['seq']} is used by another event in this batch"
        else:
            seen_ids.add(row["event_id"])
            seen_seqs.add(row["seq"])
            statuses.append(ACCEPTED)  # provisional: settled by what the insert returns
            to_insert.append(row)

    inserted: set[str] = set()
    if to_insert:
        inserted = _insert_scans(db, to_insert, device_id, batch.batch_id, received_at)
    if len(inserted) < len(to_insert):
        _settle_conflicts(db, device_id, batch.rows, inserted, statuses, errors)

    accepted = statuses.count(ACCEPTED)
    duplicates = statuses.count(DUPLICATE)
    rejected = len(statuses) - accepted - duplicates
    stmt = _insert_ignoring_conflicts(db, _BATCHES, "batch_id")
    stored = db.execute(
        stmt,
        {
            "batch_id": batch.batch_id,
            "device_id": device_id,
            "sent_at": batch.sent_at,
            "received_at": received_at,
            "events": len(statuses),
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": rejected,
        },
    ).first()
    if stored is None:
        raise Conflict(
            reason="batch_replayed",
            detail="this batch_id was already received; send its events again under a new batch_id "
            "to get their answers (they will come back as duplicates)",
        )

    record_sync(db, device_id, received_at, batch.report)
    metrics.count_scan_events_on_commit(db, accepted, duplicates, rejected)
    results: list[dict[str, Any]] = []
    for event_id, status, error in zip(batch.echo_ids, statuses, errors, strict=True):
        if error is None:
            results.append({"event_id": event_id, "status": status})
        else:
            results.append({"event_id": event_id, "status": status, "error": error})
    return BatchOutcome(
        server_time=int(received_at.timestamp()),
        results=results,
        accepted=accepted,
        duplicates=duplicates,
        rejected=rejected,
    )


def _settle_conflicts(
    db: Session,
    device_id: str,
    rows: list[dict[str, Any] | None],
    inserted: set[str],
    statuses: list[str],
    errors: list[str | None],
) -> None:
    """Decide, for each event the insert skipped, whether it was a re-send or a clash."""
    pending = [
        i
        for i, row in enumerate(rows)
        if row is not None and statuses[i] == ACCEPTED and row["event_id"] not in inserted
    ]
    owners: dict[str, str] = {}
    ids = [rows[i]["event_id"] for i in pending]  # type: ignore[index]
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        query = select(_SCANS.c.event_id, _SCANS.c.device_id).where(_SCANS.c.event_id.in_(chunk))
        owners.update((event_id, owner) for event_id, owner in db.execute(query))
    for i in pending:
        row = rows[i]
        assert row is not None
        owner = owners.get(row["event_id"])
        if owner == device_id:
            statuses[i] = DUPLICATE
        elif owner is not None:
            statuses[i] = REJECTED
            errors[i] = "event_id is already used by another device"
        else:
            # Not there by event id, so the (device_id, seq) constraint refused it.
            statuses[i] = REJECTED
            errors[i] = f"seq {row['seq']} already holds a different event from this device"
