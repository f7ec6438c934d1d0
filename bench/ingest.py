"""Scan-batch ingestion throughput: the hub over a real uvicorn on loopback vs a raw executemany.

    .venv/bin/python bench/ingest.py [--events 20000] [--batch 500] [--clients 2] [--backend all]

For each backend (SQLite always; PostgreSQL when HUB_BENCH_POSTGRES_URL or HUB_TEST_POSTGRES_URL points
at a database where that role may create schemas) it makes a fresh hub database (a file, or a schema)
and key store, starts
`uvicorn hub.main:create_app` in a subprocess, enrols a device over HTTP, and has `--clients` threads
POST signed batches of `--batch` events at once. Then, in the same run and on the same backend, the
same rows go into a second fresh database with a plain DB-API `executemany` per batch (no HTTP, no
signature, no parsing, no conflict handling): the ratio says what the service costs over the bare insert.
Finally it checks that nothing was lost or doubled (count and distinct counts), that re-sent events
come back "duplicate" and that a replayed batch is refused.

Goal (issue 3): >= 5,000 events/s on SQLite and >= 10,000 events/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import secrets
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.uvicorn_hub import start_uvicorn_hub  # noqa: E402
from crypto.keys import KeyPair  # noqa: E402
from hub.core.protection import token_hash  # noqa: E402
from hub.db import make_engine, utcnow  # noqa: E402
from hub.migrations import upgrade_to_head  # noqa: E402
from hub.models.devices import EnrolmentToken  # noqa: E402
from hub.services.devices.scan_batch import parse_batch  # noqa: E402
from provisioning.keystore import KeyStore  # noqa: E402

# The test database runs with synchronous_commit off (scripts/start-services); a benchmark measures the
# product's durability, so its sessions commit to disk as a production server does.
_DURABLE = "-csynchronous_commit=on"

PASSPHRASE = "bench passphrase"
SCAN_COLUMNS = (
    "event_id",
    "device_id",
    "seq",
    "batch_id",
    "scanned_at",
    "received_at",
    "hlc",
    "ok",
    "reason",
    "pass_id",
    "officer_id",
    "issuer_kid",
    "serial",
    "trust_age_s",
    "stale",
)


@dataclass
class Result:
    backend: str
    events: int
    hub_seconds: float
    raw_seconds: float
    checks: list[str]

    @property
    def hub_rate(self) -> float:
        return self.events / self.hub_seconds

    @property
    def raw_rate(self) -> float:
        return self.events / self.raw_seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _events(start_seq: int, count: int) -> list[dict[str, Any]]:
    now = time.time()
    return [
        {
            "event_id": str(uuid.uuid4()),
            "seq": seq,
            "scanned_at": now - 3600 + seq * 0.01,
            "hlc": f"{int(now * 1000):013d}:{seq:06d}",
            "ok": seq % 17 != 0,
            "reason": "valid" if seq % 17 != 0 else "revoked",
            "pass_id": secrets.token_hex(16),
            "officer_id": str(1 + seq % 5),
            "issuer_kid": "0123456789abcdef",
            "serial": seq,
            "trust_age_s": 300,
            "stale": False,
        }
        for seq in range(start_seq, start_seq + count)
    ]


def _batches(
    device_id: str, key: KeyPair, clients: int, total: int, size: int
) -> list[list[tuple[bytes, str]]]:
    """Per client, its signed batch bodies; clients use disjoint seq ranges of the one device."""
    per_client = total // clients
    plans: list[list[tuple[bytes, str]]] = []
    for c in range(clients):
        bodies = []
        for start in range(c * per_client, (c + 1) * per_client, size):
            doc = {
                "device_id": device_id,
                "batch_id": str(uuid.uuid4()),
                "sent_at": time.time(),
                "events": _events(start, min(size, (c + 1) * per_client - start)),
            }
            body = json.dumps(doc).encode()
            bodies.append((body, base64.b64encode(key.sign(body)).decode()))
        plans.append(bodies)
    return plans


def _healthy(url: str) -> bool:
    return httpx.get(f"{url}/healthz", timeout=1).status_code == 200


def _post_all(base: str, bodies: list[tuple[bytes, str]], device_id: str, errors: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for body, signature in bodies:
            response = client.post(
                "/api/v1/scans/batches",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Device-Id": device_id,
                    "X-Device-Signature": signature,
                },
            )
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")
                return
            statuses = {r["status"] for r in response.json()["results"]}
            if statuses != {"accepted"}:
                errors.append(f"unexpected statuses {statuses}")


def _raw_rows(plans: list[list[tuple[bytes, str]]], dialect: str) -> list[list[tuple[Any, ...]]]:
    """The rows the hub stored, shaped as the DB-API wants them for this backend."""
    batches = []
    received = utcnow()
    for bodies in plans:
        for body, _ in bodies:
            parsed = parse_batch(body, max_events=1000)
            rows = []
            for event in parsed.rows:
                assert event is not None
                row = dict(
                    event,
                    device_id=parsed.device_id,
                    batch_id=parsed.batch_id,
                    scanned_at=dt.datetime.fromtimestamp(event["scanned_at"], dt.UTC),
                    received_at=received,
                )
                values = [row[c] for c in SCAN_COLUMNS]
                if dialect == "sqlite":  # what SQLAlchemy's UtcDateTime and Boolean store on SQLite
                    values = [
                        v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
                        if isinstance(v, dt.datetime)
                        else int(v)
                        if isinstance(v, bool)
                        else v
                        for v in values
                    ]
                rows.append(tuple(values))
            batches.append(rows)
    return batches


def _raw_insert_sqlite(
    path: Path, device_id: str, public_key: bytes, batches: list[list[tuple[Any, ...]]]
) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(
        "INSERT INTO devices (id, name, public_key, enrolled_at) VALUES (?, 'raw', ?, ?)",
        (device_id, public_key, "2026-01-01 00:00:00.000000"),
    )
    sql = f"INSERT INTO scans ({', '.join(SCAN_COLUMNS)}) VALUES ({', '.join('?' * len(SCAN_COLUMNS))})"
    start = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def _raw_insert_pg(
    url: str, device_id: str, public_key: bytes, batches: list[list[tuple[Any, ...]]]
) -> float:
    import psycopg

    # Connection arguments, not a URI: in a URI libpq would read the "+" that stands for the space between
    # the two -c options literally, and the search path would name no schema.
    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
        options=parsed.query.get("options"),
    ) as conn:
        conn.execute(
            "INSERT INTO devices (id, name, public_key, enrolled_at) VALUES (%s, 'raw', %s, now())",
            (device_id, public_key),
        )
        conn.commit()
        sql = (
            f"INSERT INTO scans ({', '.join(SCAN_COLUMNS)}) VALUES ({', '.join(['%s'] * len(SCAN_COLUMNS))})"
        )
        start = time.perf_counter()
        for rows in batches:
            with conn.cursor() as cur:
                cur.executemany(sql, rows)
            conn.commit()
        return time.perf_counter() - start


def _check(engine_url: str, device_id: str, expected: int) -> list[str]:
    engine = make_engine(engine_url)
    with engine.connect() as conn:
        total, ids, seqs = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT event_id), count(DISTINCT seq) FROM scans"
                " WHERE device_id = :d"
            ),
            {"d": device_id},
        ).one()
    engine.dispose()
    problems = []
    if total != expected:
        problems.append(
            f"stored {total} events, sent {expected} ({'lost' if total < expected else 'doubled'})"
        )
    if ids != total or seqs != total:
        problems.append(f"{total} rows but {ids} distinct event ids and {seqs} distinct seqs")
    return problems


def run_backend(backend: str, hub_url: str, raw_url: str, work: Path, args: argparse.Namespace) -> Result:
    keys = work / "keys"
    KeyStore(keys, PASSPHRASE).init()
    engine = make_engine(hub_url)
    upgrade_to_head(engine)
    # The token an admin would make with POST /devices/enrolment-tokens (that call needs a console
    # login, which is not what this measures); the device then enrols over HTTP like a real one.
    enrolment_token = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(
            EnrolmentToken.__table__.insert().values(
                token_hash=token_hash(enrolment_token),
                created_at=utcnow(),
                expires_at=utcnow() + dt.timedelta(hours=1),
            )
        )
    engine.dispose()

    port = _free_port()
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=hub_url,
        HUB_KEYS_DIR=str(keys),
        HUB_KEY_PASSPHRASE=PASSPHRASE,
        HUB_SECRET_KEY=secrets.token_hex(32),
        HUB_PURGE_INTERVAL_SECONDS="0",
        HUB_SMS_GATEWAY="file",
        HUB_SMS_FILE_PATH=str(work / "sms.jsonl"),
        HUB_BASE_URL=f"http://127.0.0.1:{port}",
    )
    proc = start_uvicorn_hub(
        env,
        port,
        work / f"hub-{backend}.log",
        ready=_healthy,
        extra_args=("--loop", "uvloop", "--http", "httptools"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        key = KeyPair.generate()
        enrolled = httpx.post(
            f"{base}/api/v1/devices/enrol",
            json={
                "token": enrolment_token,
                "public_key": base64.b64encode(key.public_key).decode(),
                "name": "bench",
            },
        )
        if enrolled.status_code != 200:
            raise SystemExit(f"enrolment failed: {enrolled.status_code} {enrolled.text}")
        device_id = enrolled.json()["device_id"]
        plans = _batches(device_id, key, args.clients, args.events, args.batch)
        total = sum(len(json.loads(b)["events"]) for bodies in plans for b, _ in bodies)

        errors: list[str] = []
        threads = [
            threading.Thread(target=_post_all, args=(base, bodies, device_id, errors)) for bodies in plans
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        hub_seconds = time.perf_counter() - start
        if errors:
            raise SystemExit(f"{backend}: ingestion failed: {errors[:3]}")

        checks = _check(hub_url, device_id, total)
        # Re-sending events under a new batch id: every one a duplicate, nothing added.
        doc = json.loads(plans[0][0][0])
        doc["batch_id"] = str(uuid.uuid4())
        body = json.dumps(doc).encode()
        headers = {"X-Device-Id": device_id, "X-Device-Signature": base64.b64encode(key.sign(body)).decode()}
        again = httpx.post(f"{base}/api/v1/scans/batches", content=body, headers=headers)
        if {r["status"] for r in again.json()["results"]} != {"duplicate"}:
            checks.append("re-sent events were not all duplicates")
        body, signature = plans[0][0]
        replay = httpx.post(
            f"{base}/api/v1/scans/batches",
            content=body,
            headers={"X-Device-Id": device_id, "X-Device-Signature": signature},
        )
        if replay.status_code != 409:
            checks.append(f"replayed batch answered {replay.status_code}, not 409")
        checks += _check(hub_url, device_id, total)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    raw_engine = make_engine(raw_url)
    upgrade_to_head(raw_engine)
    raw_engine.dispose()
    rows = _raw_rows(plans, "sqlite" if backend == "sqlite" else "postgresql")
    if backend == "sqlite":
        raw_seconds = _raw_insert_sqlite(
            Path(make_url(raw_url).database or ""), device_id, key.public_key, rows
        )
    else:
        raw_seconds = _raw_insert_pg(raw_url, device_id, key.public_key, rows)
    checks += _check(raw_url, device_id, total)
    return Result(backend, total, hub_seconds, raw_seconds, checks)


def _pg_server_url() -> str | None:
    return os.environ.get("HUB_BENCH_POSTGRES_URL") or os.environ.get("HUB_TEST_POSTGRES_URL")


class _PgSchemas:
    """Fresh schemas in the server's database for one run (a role needs no CREATEDB), dropped afterwards."""

    def __init__(self, server_url: str) -> None:
        self.url = make_url(server_url).set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self, label: str) -> str:
        name = f"bench_{label}_{os.getpid()}_{secrets.token_hex(4)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        self.names.append(name)
        scoped = self.url.update_query_dict({"options": f"-csearch_path={name} {_DURABLE}"})
        return scoped.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        self.admin.dispose()


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU ({cpu}), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--backend", choices=("all", "sqlite", "postgresql"), default="all")
    args = parser.parse_args()
    goals = {"sqlite": 5_000, "postgresql": 10_000}

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="checkpass-bench-") as tmp:
        work = Path(tmp)
        if args.backend in ("all", "sqlite"):
            results.append(
                run_backend(
                    "sqlite", f"sqlite:///{work / 'hub.db'}", f"sqlite:///{work / 'raw.db'}", work, args
                )
            )
        if args.backend in ("all", "postgresql"):
            server = _pg_server_url()
            if server is None:
                print(
                    "PostgreSQL: skipped (set HUB_BENCH_POSTGRES_URL, e.g."
                    " postgresql+psycopg://user:pw@127.0.0.1/db, a role that may create schemas there)"
                )
            else:
                pg = _PgSchemas(server)
                try:
                    pg_work = work / "pg"
                    pg_work.mkdir()
                    results.append(
                        run_backend("postgresql", pg.create("hub"), pg.create("raw"), pg_work, args)
                    )
                finally:
                    pg.drop_all()

    print(_machine())
    print(
        f"{args.events} events in batches of {args.batch} from {args.clients} concurrent clients, one device"
    )
    print(
        f"{'backend':<11} {'hub (HTTP) ev/s':>16} {'raw executemany ev/s':>21} {'hub/raw':>8}"
        f" {'goal':>7}  checks"
    )
    failed = False
    for r in results:
        goal = goals[r.backend]
        verdict = "ok" if not r.checks else "; ".join(r.checks)
        met = "met" if r.hub_rate >= goal else "MISSED"
        failed |= bool(r.checks) or r.hub_rate < goal
        print(
            f"{r.backend:<11} {r.hub_rate:>16,.0f} {r.raw_rate:>21,.0f} {r.hub_rate / r.raw_rate:>8.2f} "
            f"{goal:>7,} {met}  {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
