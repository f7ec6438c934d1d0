"""The checkpoint against a real hub (uvicorn on loopback): enrol, log in, scan, sync; kill -9; offline."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from checkpoint_app.enrolment import device_key
from checkpoint_app.errors import EnrolmentError, LoginError
from checkpoint_app.service import CheckpointConfig, CheckpointService
from crypto.verify import Reason
from tests.checkpoint_app.livehub import OFFICER_MOBILE, OFFICER_NAME, REPO, LiveHub
from tests.factories import make_pass

HERE = Path(__file__).resolve().parent


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    live = LiveHub(tmp_path / "hub")
    live.prepare()
    live.start()
    yield live
    live.close()


def enrolled_service(hub: LiveHub, data_dir: Path, **config: object) -> CheckpointService:
    station = hub.add_station_with_officer()
    service = CheckpointService(CheckpointConfig(data_dir=data_dir, **config))
    service.enrol(hub.enrolment_text(station))
    service.start_officer_login(OFFICER_NAME, OFFICER_MOBILE)
    service.finish_officer_login(OFFICER_MOBILE, hub.sms_code())
    return service


def hub_passes(hub: LiveHub, n: int, start_serial: int = 0) -> list[str]:
    issuer = hub.active_issuer()
    now = int(time.time()) - 60
    return [
        make_pass(
            issuer, serial=start_serial + i, now=now, org_id="12345675", org_name="新北物流", valid_for=86460
        )
        for i in range(n)
    ]


def drain(service: CheckpointService, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while service.sync_status().queued and time.monotonic() < deadline:
        service.sync_now()
    assert service.sync_status().queued == 0, service.sync_status()


def test_enrol_login_scan_sync(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(hub, tmp_path / "device")
    try:
        officer = service.officer()
        assert officer is not None and officer.name_masked == "林*華"
        assert service.verifier.trust is not None  # fetched at enrolment
        assert service.verifier.status_lists  # and the issuer's status list with it

        valid = service.check_pass(hub_passes(hub, 1)[0])
        assert (valid.ok, valid.reason) == (True, Reason.VALID)
        foreign = service.check_pass("https://example.com/")
        assert foreign.reason is Reason.NOT_OURS
        assert service.sync_status().queued == 2

        report = service.sync_now()
        assert (report.accepted, report.duplicate, report.rejected, report.error) == (2, 0, 0, None)
        status = service.sync_status()
        assert (status.queued, status.parked, status.online) == (0, 0, True)
        assert status.last_sync_at is not None and status.trust_age_s is not None
        rows = {r["event_id"]: r for r in hub.scans()}
        assert set(rows) == {valid.event_id, foreign.event_id}
        assert rows[valid.event_id]["reason"] == "valid"
        # Nothing new: a second round sends nothing and fetches trust data conditionally.
        again = service.sync_now()
        assert (again.uploaded, again.trust_refreshed, again.error) == (0, False, None)
        assert [h.state for h in service.history()] == ["sent", "sent"]
    finally:
        service.close()


def test_enrolment_code_works_once(hub: LiveHub, tmp_path: Path) -> None:
    text = hub.enrolment_text(hub.add_station_with_officer())
    first = CheckpointService(CheckpointConfig(data_dir=tmp_path / "a"))
    first.start_sync()  # as the app does at start-up, before the device is enrolled
    assert not first.sync_status().running
    first.enrol(text)
    assert first.sync_status().running  # sync begins as soon as there is a hub to talk to
    second = CheckpointService(CheckpointConfig(data_dir=tmp_path / "b"))
    with pytest.raises(EnrolmentError):
        second.enrol(text)
    assert not second.is_enrolled()
    with pytest.raises(EnrolmentError):
        second.enrol("CPE1:bm90IGpzb24")
    first.close()
    second.close()


def test_officer_not_on_roster_and_wrong_code(hub: LiveHub, tmp_path: Path) -> None:
    service = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    service.enrol(hub.enrolment_text(hub.add_station_with_officer()))
    try:
        # Not on the roster: the hub answers as for an officer (it must not tell who is on a roster,
        # docs/identity.md) but sends no code, so no code gets in.
        service.start_officer_login("王小明", "0987654321")
        with pytest.raises(LoginError):
            service.finish_officer_login("0987654321", "123456")
        long_name = "王" * 300  # the hub's 422 echoes inputs; our error must not carry them
        with pytest.raises(LoginError) as refused:
            service.start_officer_login(long_name, OFFICER_MOBILE)
        chain = f"{refused.value} {refused.value.__cause__}"
        assert "王王王" not in chain and OFFICER_MOBILE[2:] not in chain
        service.start_officer_login(OFFICER_NAME, OFFICER_MOBILE)
        wrong = "000000" if hub.sms_code() != "000000" else "111111"
        with pytest.raises(LoginError):
            service.finish_officer_login(OFFICER_MOBILE, wrong)
        assert service.officer() is None
    finally:
        service.close()


def test_nothing_lost_when_killed_at_random(hub: LiveHub, tmp_path: Path) -> None:
    data_dir = tmp_path / "device"
    enrolled_service(hub, data_dir).close()
    passes = tmp_path / "passes.txt"
    passes.write_text("\n".join(hub_passes(hub, 20) + ["https://example.com/not-a-pass"]))
    shown = tmp_path / "shown.txt"
    rng = random.Random(int.from_bytes(os.urandom(4)))
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{HERE}"}
    kills = 0
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, str(HERE / "scan_child.py"), str(data_dir), str(shown), str(passes)],
            env=env,
            stdout=subprocess.PIPE,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.8))
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
        kills += 1
    # Lines written completely before a kill; a torn last line was never a finished "shown" write.
    shown_ids = [line for line in shown.read_text().split("\n") if len(line) == 36]
    assert len(shown_ids) > 50, "the children scanned too little to prove anything"

    service = CheckpointService(CheckpointConfig(data_dir=data_dir))
    try:
        drain(service)
        device_ids = set(service.store.event_ids())
        seqs = [r.seq for r in service.history(limit=100_000)]
    finally:
        service.close()
    hub_rows = hub.scans()
    per_event = Counter(r["event_id"] for r in hub_rows)
    print(
        f"nothing-lost: {kills} kills, {len(shown_ids)} shown, {len(device_ids)} recorded,"
        f" {len(hub_rows)} at hub"
    )
    assert kills == 8
    assert set(shown_ids) <= set(per_event), "a shown verdict never reached the hub"
    assert max(per_event.values()) == 1
    assert set(per_event) == device_ids  # and the hub has nothing the device did not record
    assert len(seqs) == len(set(seqs)) and sorted(r["seq"] for r in hub_rows) == sorted(seqs)


def test_offline_then_online(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(
        hub, tmp_path / "device", sync_interval_s=0.5, backoff_base_s=0.1, backoff_cap_s=1.0, batch_size=1000
    )
    try:
        texts = hub_passes(hub, 50)
        hub.stop()
        service.start_sync()
        started = time.monotonic()
        ids = [service.check_pass(texts[i % 50]).event_id for i in range(10_000)]
        scan_s = time.monotonic() - started
        status = service.sync_status()
        assert status.queued == 10_000 and not status.online
        assert len(hub.scans()) == 0

        hub.start()
        online_at = time.monotonic()
        deadline = time.monotonic() + 40
        while service.sync_status().queued and time.monotonic() < deadline:
            time.sleep(0.2)
        service.stop_sync()
        rows = hub.scans()
        print(
            f"offline-online: 10000 scans in {scan_s:.1f}s, ingested in {time.monotonic() - online_at:.1f}s"
        )
        assert Counter(r["event_id"] for r in rows) == Counter(ids), f"scanning took {scan_s:.1f}s"
        assert service.sync_status().online
    finally:
        service.close()


def test_revocation_reaches_the_device_as_a_delta(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(hub, tmp_path / "device")
    try:
        text = hub_passes(hub, 1, start_serial=3)[0]
        assert service.check_pass(text).reason is Reason.VALID
        kid_hex = hub.active_issuer().kid.hex()
        before = service.store.status_rows()[kid_hex].counter
        counter = hub.revoke(kid_hex, 3)
        report = service.sync_now()
        assert report.error is None and report.status_lists_refreshed == 1
        assert service.store.status_rows()[kid_hex].counter == counter == before + 1
        assert service.check_pass(text).reason is Reason.REVOKED
        # Unchanged now: the hub answers 304 and nothing is rewritten.
        assert service.sync_now().status_lists_refreshed == 0
    finally:
        service.close()


def post_signed_batch(hub: LiveHub, service: CheckpointService, events: list[dict[str, object]]) -> None:
    """Upload a batch as this device, outside its outbox (what another copy of the device could send)."""
    device = service.store.device()
    assert device is not None
    body = json.dumps(
        {
            "device_id": device.device_id,
            "batch_id": str(uuid.uuid4()),
            "sent_at": int(time.time()),
            "events": events,
        }
    ).encode()
    answer = httpx.post(
        f"{hub.url}/api/v1/scans/batches",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Device-Id": device.device_id,
            "X-Device-Signature": base64.b64encode(device_key(service.store).sign(body)).decode(),
        },
    )
    assert answer.status_code == 200, answer.text


def test_rejected_event_is_parked_and_does_not_block(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(hub, tmp_path / "device")
    try:
        texts = hub_passes(hub, 3)
        first = service.check_pass(texts[0])
        # Another event already holds our seq at the hub (say, a restored backup replaying old
        # numbers): the hub rejects ours, and the events after it must still go through.
        squatter = {
            "event_id": str(uuid.uuid4()),
            "seq": first.seq,
            "scanned_at": time.time(),
            "hlc": "0000000000001:00000",
            "ok": True,
            "reason": "valid",
            "pass_id": None,
            "officer_id": None,
            "issuer_kid": None,
            "serial": None,
            "trust_age_s": None,
            "stale": False,
        }
        post_signed_batch(hub, service, [squatter])
        later = [service.check_pass(t) for t in texts[1:]]
        report = service.sync_now()
        assert (report.accepted, report.rejected, report.error) == (2, 1, None)
        status = service.sync_status()
        assert (status.queued, status.parked) == (0, 1)
        hub_ids = {r["event_id"] for r in hub.scans()}
        assert {o.event_id for o in later} <= hub_ids and first.event_id not in hub_ids
        assert [h.state for h in service.history()] == ["sent", "sent", "parked"]
        assert service.sync_now().uploaded == 0  # parked stays parked: never retried into the queue
    finally:
        service.close()


def test_enrolment_pins_the_root_key_from_the_qr(hub: LiveHub, tmp_path: Path) -> None:
    genuine = hub.enrolment_text(hub.add_station_with_officer())
    data = json.loads(base64.urlsafe_b64decode(genuine[5:] + "=" * (-len(genuine[5:]) % 4)))
    data["root_public_key"] = base64.b64encode(os.urandom(32)).decode()  # a QR swapped by someone
    forged = "CPE1:" + base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    service = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    try:
        with pytest.raises(EnrolmentError, match="root key differs"):
            service.enrol(forged)
        assert not service.is_enrolled()
        assert not (tmp_path / "device" / "device.key").exists()
    finally:
        service.close()


def test_revoked_device_keeps_its_events_and_says_why(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(hub, tmp_path / "device")
    try:
        outcome = service.check_pass(hub_passes(hub, 1)[0])
        device = service.store.device()
        assert device is not None
        answer = httpx.post(
            f"{hub.url}/api/v1/devices/{device.device_id}/revoke", json={}, headers=hub.admin_headers()
        )
        assert answer.status_code == 200, answer.text
        report = service.sync_now()
        assert report.error is not None and "403" in report.error
        status = service.sync_status()
        assert (status.queued, status.online, status.last_error) == (1, True, report.error)
        assert service.store.event_ids("queued") == [outcome.event_id]  # kept for the operator
        assert hub.scans() == []
    finally:
        service.close()
