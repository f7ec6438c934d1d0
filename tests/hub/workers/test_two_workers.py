"""Two hub processes on one PostgreSQL: nothing lost, nothing doubled, limits counted together, jobs
run once (docs/deploy.md). Real uvicorn processes over HTTP; PostgreSQL required under CI."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.db import make_engine
from hub.sms import latest_code
from tests.hub.workers.hubprocs import (
    HubProcess,
    enrol_device,
    hub_env,
    pg_schema,
    postgres_url_or_skip,
    scan_events,
    signed_batch,
)

PURGE_INTERVAL = 15  # seconds; both hubs' schedulers find the purge due at their first tick
MOBILE = "+886912000777"


class Deployment:
    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work
        self.env = hub_env(url, work, HUB_PURGE_INTERVAL_SECONDS=str(PURGE_INTERVAL))
        self.a = HubProcess(self.env, work / "hub-a.log")
        self.b = HubProcess(self.env, work / "hub-b.log")
        self.ready_at: list[float] = []
        self.engine = make_engine(url)

    def start(self) -> None:
        self.a.start()
        self.b.start()
        for hub in (self.a, self.b):
            hub.wait_ready()
            self.ready_at.append(time.monotonic())

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    server = postgres_url_or_skip()
    with pg_schema(server) as url:
        d = Deployment(url, tmp_path_factory.mktemp("workers"))
        try:
            d.start()
            yield d
        finally:
            d.a.stop()
            d.b.stop()
            d.engine.dispose()


def test_purge_runs_once_when_both_workers_are_due(deployment: Deployment) -> None:
    d = deployment
    device_id, _key = enrol_device(d.url, d.a.url)
    with d.engine.begin() as conn:  # a scan from before the retention period
        conn.execute(
            text(
                "INSERT INTO scans (event_id, device_id, seq, batch_id, scanned_at, received_at, hlc, ok,"
                " reason, officer_id, stale) VALUES (:e, :d, 0, :b, now() - interval '40 days', now(),"
                " '0000000000000:000000', true, 'valid', '1', false)"
            ),
            {"e": str(uuid.uuid4()), "d": device_id, "b": str(uuid.uuid4())},
        )
    # Both schedulers tick PURGE_INTERVAL s after their start: wait past the later one's first tick,
    # but not until the earlier one's second (when the purge is legitimately due again).
    time.sleep(max(0.0, max(d.ready_at) + PURGE_INTERVAL + 2 - time.monotonic()))
    assert time.monotonic() < min(d.ready_at) + 2 * PURGE_INTERVAL - 1, "hubs started too far apart"
    assert d.scalar("SELECT runs FROM job_runs WHERE name = 'retention.purge'") == 1
    assert d.scalar("SELECT count(*) FROM audit_events WHERE action = 'retention.purge'") == 1
    assert d.scalar("SELECT count(*) FROM scans WHERE scanned_at < now() - interval '28 days'") == 0


def test_same_batch_sent_to_both_at_once_is_accepted_exactly_once(deployment: Deployment) -> None:
    d = deployment
    device_id, key = enrol_device(d.url, d.a.url)
    events = scan_events(0, 500)
    body, headers = signed_batch(device_id, key, events)
    barrier = threading.Barrier(2)

    def send(hub: HubProcess) -> httpx.Response:
        barrier.wait()
        return httpx.post(f"{hub.url}/api/v1/scans/batches", content=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, (d.a, d.b)))
    statuses = sorted(r.status_code for r in answers)
    # One process stores the batch; the other finds its batch id taken and changes nothing (409).
    assert statuses == [200, 409], [r.text[:200] for r in answers]
    winner = next(r for r in answers if r.status_code == 200).json()
    assert {r["status"] for r in winner["results"]} == {"accepted"}
    assert d.scalar("SELECT count(*) FROM scans WHERE device_id = :d", d=device_id) == 500
    assert d.scalar("SELECT count(DISTINCT event_id) FROM scans WHERE device_id = :d", d=device_id) == 500

    # The same events under two new batch ids, to both at once: every one answered duplicate.
    again = [signed_batch(device_id, key, events) for _ in range(2)]
    barrier = threading.Barrier(2)

    def resend(args: tuple[HubProcess, tuple[bytes, dict[str, str]]]) -> dict[str, Any]:
        hub, (b, h) = args
        barrier.wait()
        r = httpx.post(f"{hub.url}/api/v1/scans/batches", content=b, headers=h, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(resend, zip((d.a, d.b), again, strict=True)))
    assert all({r["status"] for r in res["results"]} == {"duplicate"} for res in results)
    assert d.scalar("SELECT count(*) FROM scans WHERE device_id = :d", d=device_id) == 500

    # New events split over both, overlapping in the middle: each stored once, answered accepted once.
    fresh = scan_events(500, 300)
    first, second = fresh[:200], fresh[100:]
    barrier = threading.Barrier(2)
    batches = [signed_batch(device_id, key, first), signed_batch(device_id, key, second)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(resend, zip((d.a, d.b), batches, strict=True)))
    accepted = [r["event_id"] for res in results for r in res["results"] if r["status"] == "accepted"]
    assert sorted(accepted) == sorted(e["event_id"] for e in fresh)
    assert d.scalar("SELECT count(*) FROM scans WHERE device_id = :d", d=device_id) == 800


def test_wrong_sms_codes_on_both_workers_count_together(deployment: Deployment) -> None:
    d = deployment
    sent = httpx.post(
        f"{d.a.url}/api/v1/otp/request", json={"mobile": MOBILE, "purpose": "footprint"}, timeout=30
    )
    assert sent.status_code == 200, sent.text
    code = latest_code(d.work / "sms.jsonl", MOBILE)
    assert code is not None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    barrier = threading.Barrier(16)

    def guess(hub: HubProcess) -> dict[str, Any]:
        barrier.wait()
        r = httpx.post(f"{hub.url}/api/v1/footprint", json={"mobile": MOBILE, "code": wrong}, timeout=30)
        assert r.status_code == 400, r.text
        return r.json()

    # Sixteen wrong guesses at once, eight on each process: only five may ever be checked.
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(guess, [d.a, d.b] * 8))
    assert sum(a["error"] == "code_wrong" for a in answers) <= 4
    assert d.scalar("SELECT attempts FROM otp_codes WHERE mobile = :m", m=MOBILE) == 5
    for hub in (d.a, d.b):  # the right code is dead on both
        r = httpx.post(f"{hub.url}/api/v1/footprint", json={"mobile": MOBILE, "code": code}, timeout=30)
        assert r.status_code == 400 and r.json()["error"] == "code_exhausted", r.text


def test_sms_caps_hold_when_both_workers_are_asked_at_once(deployment: Deployment) -> None:
    """The hourly cap per number (5) is counted over both processes, even for requests at one instant."""
    d = deployment
    mobile = "+886912000888"
    barrier = threading.Barrier(12)

    def ask(hub: HubProcess) -> int:
        barrier.wait()
        r = httpx.post(
            f"{hub.url}/api/v1/otp/request", json={"mobile": mobile, "purpose": "footprint"}, timeout=30
        )
        return r.status_code

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(ask, [d.a, d.b] * 6))
    assert sorted(answers) == [200] * 5 + [429] * 7
    assert d.scalar("SELECT count(*) FROM otp_codes WHERE mobile = :m", m=mobile) == 5
    sent = [line for line in (d.work / "sms.jsonl").read_text().splitlines() if mobile in line]
    assert len(sent) == 5


def test_worker_killed_mid_batch_loses_and_doubles_nothing(deployment: Deployment) -> None:
    d = deployment
    victim = HubProcess(d.env, d.work / "hub-victim.log").start()
    victim.wait_ready()
    device_id, key = enrol_device(d.url, d.b.url)
    events = scan_events(0, 1000)
    body, headers = signed_batch(device_id, key, events)
    outcome: dict[str, Any] = {}

    def upload() -> None:
        try:
            outcome["response"] = httpx.post(
                f"{victim.url}/api/v1/scans/batches", content=body, headers=headers, timeout=60
            )
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=upload)
    sender.start()
    time.sleep(random.uniform(0.02, 0.3))  # somewhere in parsing, inserting or committing
    victim.kill()
    sender.join()

    # The device did not get its answer (or did, if the commit beat the kill): it retries the same
    # batch on the other process, and on "batch_replayed" sends the events under a new batch id.
    retry = httpx.post(f"{d.b.url}/api/v1/scans/batches", content=body, headers=headers, timeout=60)
    if retry.status_code == 409:
        assert retry.json()["error"] == "batch_replayed"
        doc = json.loads(body)
        body2, headers2 = signed_batch(device_id, key, doc["events"])
        retry = httpx.post(f"{d.b.url}/api/v1/scans/batches", content=body2, headers=headers2, timeout=60)
    assert retry.status_code == 200, retry.text
    assert {r["status"] for r in retry.json()["results"]} <= {"accepted", "duplicate"}
    assert d.scalar("SELECT count(*) FROM scans WHERE device_id = :d", d=device_id) == 1000
    assert d.scalar("SELECT count(DISTINCT event_id) FROM scans WHERE device_id = :d", d=device_id) == 1000
    assert d.scalar("SELECT count(DISTINCT seq) FROM scans WHERE device_id = :d", d=device_id) == 1000
    assert d.scalar("SELECT count(*) FROM scan_batches WHERE device_id = :d", d=device_id) in (1, 2)
