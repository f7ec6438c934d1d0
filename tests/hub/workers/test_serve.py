"""`checkpass hub serve --workers 2`, as an operator starts it: both workers serve the same signed
bundle, and /metrics on any of them counts the requests of all (prometheus-client multiprocess)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.hub.workers.hubprocs import ROOT, enrol_device, free_port, hub_env, scan_events, signed_batch


def _count(metrics: str, route: str) -> float:
    pattern = (
        r'checkpass_http_request_duration_seconds_count\{method="GET",route="'
        + re.escape(route)
        + r'",status="3xx"\} (\S+)'
    )
    match = re.search(pattern, metrics)
    return float(match[1]) if match else 0.0


def test_serve_with_two_workers_shares_documents_and_metrics(tmp_path: Path) -> None:
    env = hub_env(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path, HUB_METRICS_DIR=str(tmp_path / "metrics"))
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "provisioning.cli", "hub", "serve", "--workers", "2", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        workers = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(workers) >= 2, "uvicorn did not start two worker processes"

        # A new connection per request: the kernel hands them to either worker.
        bodies = {httpx.get(f"{url}/api/v1/trust/bundle").content for _ in range(10)}
        assert len(bodies) == 1  # signed once, stored, the same bytes from every worker
        etag = httpx.get(f"{url}/api/v1/trust/bundle").headers["etag"]
        for _ in range(20):
            r = httpx.get(f"{url}/api/v1/trust/bundle", headers={"If-None-Match": etag})
            assert r.status_code == 304
        # Every scrape, whichever worker answers it, counts all 20.
        for _ in range(6):
            assert _count(httpx.get(f"{url}/metrics").text, "/api/v1/trust/bundle") == 20
        assert list((tmp_path / "metrics").glob("*.db")), "no multiprocess metric files were written"

        # Scan events are counted once their batch is committed, whichever worker took it.
        device_id, key = enrol_device(env["HUB_DATABASE_URL"], url)
        for start in (0, 5):
            body, headers = signed_batch(device_id, key, scan_events(start, 5))
            assert httpx.post(f"{url}/api/v1/scans/batches", content=body, headers=headers).status_code == 200
        for _ in range(4):
            text = httpx.get(f"{url}/metrics").text
            assert re.search(r'checkpass_scan_events_total\{status="accepted"\} 10\.0', text), text[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
