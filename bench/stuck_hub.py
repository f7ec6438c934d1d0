"""Scan latency while the sync thread hangs on a hub that never answers.

    .venv/bin/python bench/stuck_hub.py [--scans 200]

A checkpoint must not wait for the network: a scan verifies offline and writes to the local outbox while
the sync thread may sit in a read on a stuck hub. This measures the per-scan latency (check_pass +
sync_status, what the UI calls per scan) with the sync thread hung on a socket that accepts and never
answers, next to the same scans with no sync thread at all (the baseline, same run). Goal: worst scan
under 100 ms and the median within 20% of the baseline. (This was a timed assertion in
tests/checkpoint_app/test_sync_engine.py; timings belong here, the test keeps the functional check.)
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scan import make_device  # noqa: E402

from checkpoint_app.service import CheckpointService  # noqa: E402


def _scan_times(service: CheckpointService, texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        t0 = time.perf_counter()
        service.check_pass(text)
        service.sync_status()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_service, base_texts = make_device(Path(tmp) / "baseline", args.scans)
        _scan_times(base_service, base_texts[:5])  # warm-up: first calls allocate
        baseline = _scan_times(base_service, base_texts)
        base_service.close()

        black_hole = socket.socket()
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(16)
        data_dir = Path(tmp) / "stuck"
        service, texts = make_device(data_dir, args.scans)
        service.close()
        url = f"http://127.0.0.1:{black_hole.getsockname()[1]}"
        service = CheckpointService(dataclasses.replace(service.config, hub_url=url))
        try:
            service.start_sync()
            time.sleep(0.3)  # the sync thread is now waiting on the black hole
            if service._sync is None or not service._sync._run_lock.locked():
                sys.exit("the sync thread is not stuck on the silent hub: nothing to measure")
            stuck = _scan_times(service, texts)
        finally:
            black_hole.close()
            service.close()
    b, s = statistics.median(baseline) * 1000, statistics.median(stuck) * 1000
    print(f"scans with the sync thread hung on a silent hub, {args.scans} each (check_pass + sync_status)")
    print(f"{'':14s} {'median ms':>10s} {'worst ms':>10s} {'ratio':>7s}")
    print(f"{'no sync':14s} {b:10.2f} {max(baseline) * 1000:10.2f} {'1.00':>7s}  (baseline)")
    print(f"{'hub stuck':14s} {s:10.2f} {max(stuck) * 1000:10.2f} {s / b:7.2f}")
    print("goal: worst < 100 ms, median ratio <= 1.20")
    print(f"machine: {platform.machine()} Python {platform.python_version()}")


if __name__ == "__main__":
    main()
