"""The production nginx site (deploy/nginx/checkpass.conf) run locally in front of hub processes:
plain HTTP on a free high port, the upstream and the public-documents root pointed at this machine.
Only what cannot run here changes (addresses, ports, TLS, paths); every location is the shipped one,
so a test or a measurement through it exercises the config operators install."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "checkpass.conf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (str(p) for p in (Path("/usr/sbin/nginx"), Path("/usr/bin/nginx")) if p.exists()), None
    )


def local_site(hub_ports: list[int], public_dir: Path, port: int, *, lift_code_limit: bool = False) -> str:
    """The shipped site for this machine. `lift_code_limit`: drop the per-address SMS-code limit (a load
    generator sends everything from one address; the hub's own caps are lifted for it likewise)."""
    site = SITE.read_text()
    if lift_code_limit:
        site = re.sub(r"(?m)^\s*limit_req(_status)? .*\n", "", site)
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in hub_ports)
    site = re.sub(r"(?m)^    server 10\.0\.0\.\d+:8000[^\n]*\n", "", site)
    site = site.replace("    least_conn;", servers + "    least_conn;", 1)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{_free_port()};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port};")
    site = re.sub(r"(?m)^\s*(listen \[::\].*|ssl_\w+ .*|add_header Strict-Transport-Security.*)\n", "", site)
    site = site.replace("/var/lib/checkpass/public", str(public_dir))
    return site


class NginxFront:
    """`with NginxFront(work, [hub_port], public_dir) as front:` then `front.url`."""

    def __init__(
        self, work: Path, hub_ports: list[int], public_dir: Path, *, lift_code_limit: bool = False
    ) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (scripts/bootstrap installs it)")
        self.binary = binary
        self.work = work
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        work.mkdir(parents=True, exist_ok=True)
        (work / "checkpass.conf").write_text(
            local_site(hub_ports, public_dir, self.port, lift_code_limit=lift_code_limit)
        )
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test's private dirs
        (work / "nginx.conf").write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {work}/nginx.pid;\n"
            f"error_log {work}/error.log;\nevents {{}}\n"
            f"http {{\n    access_log off;\n    include {work}/checkpass.conf;\n}}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> NginxFront:
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.work), "-c", str(self.work / "nginx.conf"),
             "-e", str(self.work / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.work / 'error.log').read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=2)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """nginx's worker processes (the master only forks them): where a request's CPU goes."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
