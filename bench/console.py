"""Console page latency with the demo data x 100, over a real uvicorn on loopback.

Run: .venv/bin/python bench/console.py [--copies 100] [--rounds 40]

Builds a fresh SQLite hub with `hub.demo.seed_demo` and then COPIES more of the same shape: enterprises
with 3 employees and 3 passes each, stations with an admin, 2 officers and a checkpoint device, 100 scans
per device over the last 24 hours, general admins. A super admin logs in through the console's login
form, then each page is fetched ROUNDS times (after one warm-up). Printed per page: p50 and p95 in ms,
and the ratio of its p95 to /healthz's p95 measured in the same run (the baseline: one trivial database
round trip through the same server). Goal (issue 9): every page <= 150 ms p95.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import secrets
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

from hub.core.config import Settings
from hub.db import utcnow
from hub.main import create_app

PASSPHRASE = "bench passphrase for the hub keys"
PAGES = (
    "/console/",
    "/console/admins",
    "/console/stations",
    "/console/queries",
    "/console/queries?kind=passes",
    "/console/queries?kind=checks",
    "/console/audit",
    "/console/audit?outcome=allowed&q=query&since=2020-01-01",  # free text over the details: the slow path
    "/console/devices",
    "/console/account",
)


def _seed(app: object, copies: int) -> None:
    from crypto.identity import mask_national_id  # noqa: F401  (the same masking the services use)
    from hub.demo import seed_demo
    from hub.models.devices import Device, Scan, ScanBatch
    from hub.models.identity import Role, User
    from hub.models.organisations import Organisation, OrgKind
    from hub.models.rosters import Employee, Officer
    from hub.services import passes, people

    with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        seed_demo(db, app.state.settings)  # type: ignore[attr-defined]
        admin = db.query(User).filter(User.role == Role.SUPER_ADMIN.value).first()
        now = utcnow()
        for copy in range(copies - 1):
            org = Organisation(
                kind=OrgKind.ENTERPRISE.value, name=f"示範企業 {copy:03d} 股份有限公司", ubn=f"{copy:08d}"
            )
            db.add(org)
            db.flush()
            db.add(
                User(
                    mobile=f"+8869330{copy:05d}",
                    name="曾可愛",
                    role=Role.ENTERPRISE_ADMIN.value,
                    org_id=org.id,
                )
            )
            for index in range(3):
                employee = Employee(
                    org_id=org.id, name=f"陳{index}明", mobile=f"+886912{copy:03d}{index:03d}"
                )
                people.set_national_id(db, employee, _national_id(copy * 3 + index))
                db.add(employee)
                db.flush()
                passes.sign_pass(
                    db, org=org, employee=employee, actor=admin, not_before=now - dt.timedelta(days=index)
                )
            station = Organisation(kind=OrgKind.STATION.value, name=f"示範分局 {copy:03d}")
            db.add(station)
            db.flush()
            db.add(
                User(
                    mobile=f"+8869550{copy:05d}",
                    name="王警官",
                    role=Role.STATION_ADMIN.value,
                    org_id=station.id,
                )
            )
            officers = []
            for index in range(2):
                officer = Officer(
                    station_id=station.id,
                    name=f"張{index}明",
                    officer_number=f"B-{copy}-{index}",
                    mobile=f"+886955{copy:03d}{index:03d}",
                )
                db.add(officer)
                officers.append(officer)
            db.add(
                User(
                    mobile=f"+8869170{copy:05d}",
                    name="一般管理者",
                    role=Role.GENERAL_ADMIN.value,
                    permissions=["query.passes", "audit.read"],
                )
            )
            synced = now - dt.timedelta(hours=copy % 3)
            device = Device(
                id=str(uuid.uuid4()),
                name=f"查驗機 {copy:03d}",
                public_key=secrets.token_bytes(32),
                station_id=station.id,
                # What ingestion notes from the batch below (hub.services.devices.device_report.record_sync).
                last_sync_at=synced,
                app_version="0.1.0",
                queue_waiting=copy % 4,
                queue_oldest_age_s=600 * (copy % 4) or None,
                queue_reported_at=synced,
            )
            db.add(device)
            db.flush()
            batch = str(uuid.uuid4())
            db.add(
                ScanBatch(
                    batch_id=batch,
                    device_id=device.id,
                    sent_at=now,
                    received_at=synced,
                    events=100,
                    accepted=100,
                    duplicates=0,
                    rejected=0,
                )
            )
            for seq in range(100):
                at = now - dt.timedelta(minutes=seq * 14)
                db.add(
                    Scan(
                        event_id=str(uuid.uuid4()),
                        device_id=device.id,
                        seq=seq,
                        batch_id=batch,
                        scanned_at=at,
                        received_at=at,
                        hlc=f"{seq}",
                        ok=seq % 7 != 0,
                        reason="ok" if seq % 7 else "revoked",
                        pass_id=None,
                        officer_id=str(officers[seq % 2].id),
                        stale=False,
                    )
                )
            if copy % 10 == 9:
                db.commit()
        db.commit()


def _national_id(number: int) -> str:
    """A valid-looking Taiwan national ID per number (the check digit found by trying the ten)."""
    from crypto.identity import is_valid_national_id

    body = f"A1{number:07d}"
    return next(body + str(d) for d in range(10) if is_valid_national_id(body + str(d)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _timed(client: httpx.Client, path: str, rounds: int) -> list[float]:
    assert client.get(path).status_code == 200, path  # warm-up, and a check that the page works
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    from provisioning.keystore import KeyStore

    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        KeyStore(base / "keys", PASSPHRASE).init()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        settings = Settings(
            database_url=f"sqlite:///{base / 'hub.db'}",
            keys_dir=base / "keys",
            key_passphrase=PASSPHRASE,
            secret_key="bench-secret-0123456789abcdef",
            sms_gateway="file",
            sms_file_path=base / "sms.jsonl",
            purge_interval_seconds=0,
            base_url=url,
            _env_file=None,
        )
        app = create_app(settings)
        started = time.perf_counter()
        _seed(app, args.copies)
        print(f"seeded demo x {args.copies} in {time.perf_counter() - started:.1f} s")
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        try:
            with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as client:
                form = client.get("/console/login").text
                token = re.search(r'name="csrf" value="([^"]+)"', form)
                assert token is not None
                from hub.demo import DEMO_ADMIN_MOBILE, DEMO_ADMIN_PASSWORD

                login = client.post(
                    "/console/login",
                    data={
                        "csrf": token.group(1),
                        "mobile": DEMO_ADMIN_MOBILE,
                        "password": DEMO_ADMIN_PASSWORD,
                    },
                    headers={"Origin": url},
                )
                assert login.status_code == 200 and "data-menu" in login.text, (
                    login.status_code,
                    login.text[-800:],
                )
                baseline = _percentile(_timed(client, "/healthz", args.rounds), 0.95)
                print(f"baseline /healthz: p95 {baseline:.1f} ms")
                worst = 0.0
                for path in PAGES:
                    times = _timed(client, path, args.rounds)
                    p50, p95 = statistics.median(times), _percentile(times, 0.95)
                    worst = max(worst, p95)
                    print(f"{path:58s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ratio {p95 / baseline:5.1f}")
                print(f"worst page p95: {worst:.1f} ms (goal <= 150 ms)")
        finally:
            server.should_exit = True
            app.state.engine.dispose()
    print(
        f"machine: {platform.machine()} Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
