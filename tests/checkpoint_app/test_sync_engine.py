"""Sync behaviour that needs no hub answer: backoff, offline status, never blocking scans."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from checkpoint_app.service import CheckpointConfig, CheckpointService
from checkpoint_app.sync import full_jitter
from tests.checkpoint_app.cpworld import World, seed_store


@given(st.integers(0, 200), st.floats(0.01, 5), st.floats(0.1, 600))
def test_full_jitter_stays_in_bounds(attempt: int, base: float, cap: float) -> None:
    delay = full_jitter(attempt, base, cap)
    assert 0 <= delay <= min(cap, base * 2 ** min(attempt, 30))


def test_full_jitter_spreads_out() -> None:
    delays = [full_jitter(6, 1.0, 60.0) for _ in range(2000)]
    assert 25 < sum(delays) / len(delays) < 35  # uniform on [0, 60]: mean 30
    assert min(delays) < 3 and max(delays) > 57


def test_offline_round_reports_and_keeps_everything(service: CheckpointService, world: World) -> None:
    outcome = service.check_pass(world.make_pass()[0])
    report = service.sync_now()
    assert report.error and "unreachable" in report.error and not report.online
    status = service.sync_status()
    assert (status.queued, status.online, status.last_sync_at) == (1, False, None)
    assert status.last_error == report.error
    assert service.store.event_ids("queued") == [outcome.event_id]


def test_scanning_never_waits_for_a_stuck_hub(tmp_path: Path, world: World) -> None:
    # A hub that accepts the connection and never answers: the sync thread hangs in a read.
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(16)
    url = f"http://127.0.0.1:{black_hole.getsockname()[1]}"
    seed_store(tmp_path / "device", world, hub_url=url)
    service = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    texts = [world.make_pass()[0] for _ in range(20)]
    try:
        service.start_sync()
        time.sleep(0.3)  # the sync thread is now waiting on the black hole
        assert service._sync is not None and service._sync._run_lock.locked()

        # Scans must not take the sync lock. A scan that did would hang with the sync thread, so the
        # scans run in a thread and must all finish while the lock is still held (a hang detector with a
        # wide margin, not a speed test: bench/stuck_hub.py measures the latency).
        def scan_all() -> None:
            for text in texts:
                service.check_pass(text)
                service.sync_status()

        scanner = threading.Thread(target=scan_all, daemon=True)
        scanner.start()
        scanner.join(15)
        assert not scanner.is_alive(), "a scan waited for the stuck sync thread"
        assert service._sync._run_lock.locked()  # the sync thread was stuck the whole time
        assert service.sync_status().queued == 20
    finally:
        black_hole.close()
        stopper = threading.Thread(target=service.close)
        stopper.start()
        stopper.join(20)
