"""The checkpoint's local store: one SQLite file (sqlite-utils) plus the device key file.

Durability is the point of this module. The database runs in WAL mode with synchronous=FULL, so a
COMMIT returns only after the WAL is on stable storage; `append_event` commits before it returns,
and the verdict is shown only after that. Sync and scanning share one connection behind a lock and
hold it only for short statements, never across network calls.

Personal data: the outbox keeps only what the hub needs (pass id, officer id, verdict) plus, for
this shift's history screen, the *masked* name and masked national ID. A full name never lands here.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from checkpoint_app.models import ScanRecord, SyncStatus
from checkpoint_app.reasons import reason_text
from crypto.identity import mask_name

DB_NAME = "checkpoint.db"
KEY_NAME = "device.key"
RETENTION_S = 28 * 24 * 3600  # docs/checkpoint-sync.md: scan data older than 28 days is deleted


@dataclass(frozen=True)
class DeviceRecord:
    device_id: str
    name: str
    hub_url: str
    root_public_key: bytes
    root_kid: str
    enrolled_at: float


@dataclass(frozen=True)
class NewEvent:
    scanned_at: float
    hlc: str
    ok: bool
    reason: str
    pass_id: str | None
    officer_id: str | None
    issuer_kid: str | None
    serial: int | None
    trust_age_s: int | None
    stale: bool
    # Display-only; holder_name is masked before it is written.
    holder_name: str | None = None
    masked_national_id: str | None = None
    org_name: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class StatusRow:
    issuer_kid: str
    counter: int
    size: int
    bits: bytes
    etag: str | None


# -- migrations: append only; PRAGMA user_version counts the ones applied ---------------------------
def _m1_initial(db: sqlite_utils.Database) -> None:
    db["device"].create(
        {
            "id": int,
            "device_id": str,
            "name": str,
            "hub_url": str,
            "root_public_key": bytes,
            "root_kid": str,
            "enrolled_at": float,
            "next_seq": int,
            "last_hlc": str,
        },
        pk="id",
        not_null={"device_id", "hub_url", "root_public_key", "next_seq"},
    )
    db["trust"].create(
        {"id": int, "bundle": bytes, "issued_at": int, "valid_until": int, "etag": str, "fetched_at": float},
        pk="id",
    )
    db["status_lists"].create(
        {"issuer_kid": str, "counter": int, "size": int, "bits": bytes, "etag": str, "fetched_at": float},
        pk="issuer_kid",
    )
    db["officer"].create(
        {
            "id": int,
            "credential": bytes,
            "officer_id": str,
            "name_masked": str,
            "station_id": str,
            "device_id": str,
            "nbf": int,
            "exp": int,
            "logged_in_at": float,
        },
        pk="id",
    )
    db["events"].create(
        {
            "seq": int,
            "event_id": str,
            "scanned_at": float,
            "hlc": str,
            "ok": int,
            "reason": str,
            "pass_id": str,
            "officer_id": str,
            "issuer_kid": str,
            "serial": int,
            "trust_age_s": int,
            "stale": int,
            "holder_name_masked": str,
            "masked_national_id": str,
            "org_name": str,
            "kind": str,
            "state": str,  # queued -> sent (acknowledged) | parked (rejected by the hub)
            "attempts": int,
            "error": str,
            "acked_at": float,
        },
        pk="seq",
        not_null={"event_id", "scanned_at", "hlc", "ok", "reason", "state"},
        defaults={"state": "queued", "attempts": 0, "stale": 0},
    )
    db["events"].create_index(["event_id"], unique=True)
    db["events"].create_index(["state", "seq"])
    db["events"].create_index(["scanned_at"])
    db["sync_state"].create(
        {"id": int, "last_sync_at": float, "last_attempt_at": float, "last_error": str, "online": int},
        pk="id",
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1_initial]


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self._lock = threading.RLock()
        conn = sqlite3.connect(str(self.data_dir / DB_NAME), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn, execute_plugins=False)
        self.db.enable_wal()
        # FULL: in WAL mode NORMAL may lose the last commits on power loss; a shown verdict must not.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._device: DeviceRecord | None = None

    # -- plumbing -------------------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._lock:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise RuntimeError(f"{DB_NAME} is from a newer app (schema {version})")
            for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
                with self.db.atomic():
                    step(self.db)
                    self.db.execute(f"PRAGMA user_version={number}")

    def schema_version(self) -> int:
        with self._lock:
            return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict[str, Any] | None:
        cursor = self.db.execute(sql, list(params))
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, list(params))
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- device ---------------------------------------------------------------------------------------
    @property
    def key_path(self) -> Path:
        return self.data_dir / KEY_NAME

    def write_device_key(self, seed: bytes) -> None:
        """Write the device key seed, owner-only, fsynced, replacing a half-finished enrolment's key."""
        if len(seed) != 32:
            raise ValueError("device key seed must be 32 bytes")
        tmp = self.key_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, seed)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.key_path)
        dir_fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def read_device_key_seed(self) -> bytes:
        seed = self.key_path.read_bytes()
        if len(seed) != 32:
            raise RuntimeError("device key file is damaged")
        return seed

    def save_device(
        self, device_id: str, name: str, hub_url: str, root_public_key: bytes, root_kid: str
    ) -> None:
        with self._lock, self.db.atomic():
            if self._one("SELECT id FROM device WHERE id = 1"):
                raise RuntimeError("device already enrolled")
            self.db["device"].insert(
                {
                    "id": 1,
                    "device_id": device_id,
                    "name": name,
                    "hub_url": hub_url,
                    "root_public_key": root_public_key,
                    "root_kid": root_kid,
                    "enrolled_at": time.time(),
                    "next_seq": 1,
                    "last_hlc": None,
                }
            )
            self._device = None

    def device(self) -> DeviceRecord | None:
        with self._lock:
            if self._device is None:
                row = self._one(
                    "SELECT device_id, name, hub_url, root_public_key, root_kid, enrolled_at"
                    " FROM device WHERE id = 1"
                )
                if row is not None:
                    self._device = DeviceRecord(**row)
            return self._device

    def last_hlc(self) -> str | None:
        with self._lock:
            row = self._one("SELECT last_hlc FROM device WHERE id = 1")
            return row["last_hlc"] if row else None

    def save_hlc(self, hlc: str) -> None:
        with self._lock, self.db.atomic():
            self.db.execute(
                "UPDATE device SET last_hlc = ? WHERE id = 1 AND (last_hlc IS NULL OR last_hlc < ?)",
                [hlc, hlc],
            )

    # -- trust data -----------------------------------------------------------------------------------
    def trust_row(self) -> dict[str, Any] | None:
        with self._lock:
            return self._one(
                "SELECT bundle, issued_at, valid_until, etag, fetched_at FROM trust WHERE id = 1"
            )

    def save_trust(self, bundle: bytes, issued_at: int, valid_until: int, etag: str | None) -> None:
        with self._lock, self.db.atomic():
            self.db["trust"].upsert(
                {
                    "id": 1,
                    "bundle": bundle,
                    "issued_at": issued_at,
                    "valid_until": valid_until,
                    "etag": etag,
                    "fetched_at": time.time(),
                },
                pk="id",
            )

    def touch_trust(self) -> None:
        with self._lock, self.db.atomic():
            self.db.execute("UPDATE trust SET fetched_at = ? WHERE id = 1", [time.time()])

    def status_rows(self) -> dict[str, StatusRow]:
        with self._lock:
            rows = self._all("SELECT issuer_kid, counter, size, bits, etag FROM status_lists")
        return {r["issuer_kid"]: StatusRow(**r) for r in rows}

    def save_status(self, issuer_kid: str, counter: int, size: int, bits: bytes, etag: str | None) -> None:
        with self._lock, self.db.atomic():
            self.db["status_lists"].upsert(
                {
                    "issuer_kid": issuer_kid,
                    "counter": counter,
                    "size": size,
                    "bits": bytes(bits),
                    "etag": etag,
                    "fetched_at": time.time(),
                },
                pk="issuer_kid",
            )

    # -- officer --------------------------------------------------------------------------------------
    def officer_row(self) -> dict[str, Any] | None:
        with self._lock:
            return self._one(
                "SELECT credential, officer_id, name_masked, station_id, device_id, nbf, exp, logged_in_at"
                " FROM officer WHERE id = 1"
            )

    def save_officer(
        self,
        credential: bytes,
        officer_id: str,
        name_masked: str,
        station_id: str,
        device_id: str,
        nbf: int,
        exp: int,
    ) -> None:
        with self._lock, self.db.atomic():
            self.db["officer"].upsert(
                {
                    "id": 1,
                    "credential": credential,
                    "officer_id": officer_id,
                    "name_masked": name_masked,
                    "station_id": station_id,
                    "device_id": device_id,
                    "nbf": nbf,
                    "exp": exp,
                    "logged_in_at": time.time(),
                },
                pk="id",
            )

    def clear_officer(self) -> None:
        with self._lock, self.db.atomic():
            self.db.execute("DELETE FROM officer")

    # -- outbox ---------------------------------------------------------------------------------------
    def append_event(self, event: NewEvent) -> tuple[str, int]:
        """Insert a scan event and commit; returns (event_id, seq). seq never resets or repeats."""
        event_id = str(uuid.uuid4())
        with self._lock, self.db.atomic():
            row = self._one("SELECT next_seq FROM device WHERE id = 1")
            if row is None:
                raise RuntimeError("device not enrolled")
            seq = int(row["next_seq"])
            self.db.execute(
                "INSERT INTO events (seq, event_id, scanned_at, hlc, ok, reason, pass_id, officer_id,"
                " issuer_kid, serial, trust_age_s, stale, holder_name_masked, masked_national_id,"
                " org_name, kind, state, attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'queued',0)",
                [
                    seq,
                    event_id,
                    event.scanned_at,
                    event.hlc,
                    int(event.ok),
                    event.reason,
                    event.pass_id,
                    event.officer_id,
                    event.issuer_kid,
                    event.serial,
                    event.trust_age_s,
                    int(event.stale),
                    mask_name(event.holder_name) if event.holder_name else None,
                    event.masked_national_id,
                    event.org_name,
                    event.kind,
                ],
            )
            self.db.execute("UPDATE device SET next_seq = ?, last_hlc = ? WHERE id = 1", [seq + 1, event.hlc])
        return event_id, seq

    def queued_events(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return self._all(
                "SELECT seq, event_id, scanned_at, hlc, ok, reason, pass_id, officer_id, issuer_kid, serial,"
                " trust_age_s, stale FROM events WHERE state = 'queued' ORDER BY seq LIMIT ?",
                [limit],
            )

    def queue_behind(self, after_seq: int | None) -> tuple[int, float | None]:
        """Queued events after `after_seq` (every queued one for None): how many, and the oldest's scan
        time. Parked events are not counted: they wait for an operator, not for the network."""
        with self._lock:
            row = self.db.execute(
                "SELECT count(*), min(scanned_at) FROM events WHERE state = 'queued' AND seq > ?",
                [-1 if after_seq is None else after_seq],
            ).fetchone()
        return int(row[0]), (float(row[1]) if row[1] is not None else None)

    def mark_acknowledged(self, event_ids: list[str]) -> None:
        """Only events the hub answered accepted/duplicate for come here."""
        if not event_ids:
            return
        now = time.time()
        with self._lock, self.db.atomic():
            self.db.conn.executemany(
                "UPDATE events SET state = 'sent', acked_at = ?, error = NULL WHERE event_id = ?",
                [(now, e) for e in event_ids],
            )

    def park(self, rejected: dict[str, str]) -> None:
        if not rejected:
            return
        with self._lock, self.db.atomic():
            self.db.conn.executemany(
                "UPDATE events SET state = 'parked', error = ? WHERE event_id = ? AND state = 'queued'",
                [(error[:500], e) for e, error in rejected.items()],
            )

    def note_attempt(self, event_ids: list[str]) -> None:
        if not event_ids:
            return
        with self._lock, self.db.atomic():
            self.db.conn.executemany(
                "UPDATE events SET attempts = attempts + 1 WHERE event_id = ?", [(e,) for e in event_ids]
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("SELECT state, count(*) FROM events GROUP BY state").fetchall()
        counts = {"queued": 0, "sent": 0, "parked": 0}
        counts.update({state: n for state, n in rows})
        return counts

    def event_ids(self, state: str | None = None) -> list[str]:
        with self._lock:
            if state is None:
                rows = self.db.execute("SELECT event_id FROM events ORDER BY seq").fetchall()
            else:
                rows = self.db.execute(
                    "SELECT event_id FROM events WHERE state = ? ORDER BY seq", [state]
                ).fetchall()
        return [r[0] for r in rows]

    def history(self, since: float, limit: int = 200) -> list[ScanRecord]:
        with self._lock:
            rows = self._all(
                "SELECT event_id, seq, scanned_at, ok, reason, holder_name_masked, masked_national_id,"
                " org_name, kind, stale, state FROM events WHERE scanned_at >= ? ORDER BY seq DESC LIMIT ?",
                [since, limit],
            )
        records = []
        for r in rows:
            zh, en = reason_text(r["reason"])
            records.append(
                ScanRecord(
                    event_id=r["event_id"],
                    seq=r["seq"],
                    scanned_at=r["scanned_at"],
                    ok=bool(r["ok"]),
                    reason=r["reason"],
                    reason_text_zh=zh,
                    reason_text_en=en,
                    holder_name_masked=r["holder_name_masked"],
                    masked_national_id=r["masked_national_id"],
                    org_name=r["org_name"],
                    kind=r["kind"],
                    stale=bool(r["stale"]),
                    state=r["state"],
                )
            )
        return records

    def purge_old(self, now: float | None = None, retention_s: int = RETENTION_S) -> int:
        """Delete acknowledged/parked events past retention; queued ones stay until the hub has them."""
        cutoff = (time.time() if now is None else now) - retention_s
        with self._lock, self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM events WHERE scanned_at < ? AND state IN ('sent', 'parked')", [cutoff]
            )
            return cursor.rowcount

    # -- sync bookkeeping -----------------------------------------------------------------------------
    def record_sync(self, *, ok: bool, error: str | None, online: bool) -> None:
        now = time.time()
        with self._lock, self.db.atomic():
            previous = self._one("SELECT last_sync_at FROM sync_state WHERE id = 1")
            self.db["sync_state"].upsert(
                {
                    "id": 1,
                    "last_sync_at": now if ok else (previous or {}).get("last_sync_at"),
                    "last_attempt_at": now,
                    "last_error": None if ok else error,
                    "online": int(online),
                },
                pk="id",
            )

    def sync_status(self, *, online: bool | None = None, running: bool = False) -> SyncStatus:
        counts = self.counts()
        with self._lock:
            state = self._one("SELECT last_sync_at, last_error, online FROM sync_state WHERE id = 1") or {}
            trust = self._one("SELECT issued_at, valid_until FROM trust WHERE id = 1")
        now = time.time()
        return SyncStatus(
            queued=counts["queued"],
            parked=counts["parked"],
            last_sync_at=state.get("last_sync_at"),
            trust_age_s=int(now - trust["issued_at"]) if trust else None,
            online=bool(state.get("online")) if online is None else online,
            last_error=state.get("last_error"),
            running=running,
            trust_valid_until=trust["valid_until"] if trust else None,
        )
