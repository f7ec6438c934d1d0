"""Start the hub as a benchmark measures it: `uvicorn hub.main:create_app` in its own process, waited for
until `ready(base_url)` says it serves. Shared by bench/ingest.py and bench/line.py."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def start_uvicorn_hub(
    env: dict[str, str],
    port: int,
    log_path: Path,
    *,
    ready: Callable[[str], bool],
    extra_args: Sequence[str] = (),
    start_seconds: float = 60,
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "hub.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        *extra_args,
    ]  # fmt: skip
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"hub exited early:\n{log_path.read_text()}")
        try:
            if ready(url):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"hub did not come up:\n{log_path.read_text()}")
