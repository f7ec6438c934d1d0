"""`checkpass hub init|purge|demo|serve` as an operator runs them."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hub.sms import read_messages
from provisioning.cli import main

PASS = "cli test passphrase"


@pytest.fixture
def hub_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "HUB_KEYS_DIR": str(tmp_path / "keys"),
        "HUB_KEY_PASSPHRASE": PASS,
        "HUB_SMS_GATEWAY": "file",
        "HUB_SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return tmp_path


def test_init_creates_everything_once(hub_env, capsys):
    assert main(["hub", "init", "--super-admin", "0911000001", "--super-admin", "+886911000002"]) == 0
    out = capsys.readouterr().out
    assert "09***0***1" in out and "0911000001" not in out
    assert (hub_env / "keys" / "root.key").exists() and (hub_env / "keys" / "hub-secret").exists()
    # The database holds personal data: the hub's user alone may read it.
    assert (hub_env / "hub.db").stat().st_mode & 0o777 == 0o600
    # The store is marked as the hub's, so offline `checkpass pass issue` cannot reuse its serials.
    from provisioning.keystore import KeyStore

    assert KeyStore(hub_env / "keys", "").managed_by_hub()
    assert (
        main(
            [
                "pass",
                "issue",
                "--keys",
                str(hub_env / "keys"),
                "--name",
                "陳大明",
                "--national-id",
                "A123456789",
                "--org",
                "Demo",
                "--out",
                str(hub_env / "p.png"),
            ]
        )
        == 1
    )
    sent = read_messages(hub_env / "sms.jsonl")
    assert {m["to"] for m in sent} == {"+886911000001", "+886911000002"}
    # Running it again changes nobody's password and keeps the keys.
    root = (hub_env / "keys" / "root.key").read_bytes()
    assert main(["hub", "init", "--super-admin", "0911000001"]) == 0
    assert len(read_messages(hub_env / "sms.jsonl")) == 2
    assert (hub_env / "keys" / "root.key").read_bytes() == root


def test_init_usage_errors(hub_env, capsys, monkeypatch):
    assert main(["hub", "init", "--super-admin", "12345"]) == 2
    assert "not" in capsys.readouterr().err
    assert main(["hub", "init"]) == 2  # a new hub needs a super admin
    monkeypatch.delenv("HUB_KEY_PASSPHRASE")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert main(["hub", "init", "--super-admin", "0911000001"]) == 2


def test_purge_command(hub_env, capsys):
    assert main(["hub", "init", "--super-admin", "0911000001"]) == 0
    assert main(["hub", "purge"]) == 0
    assert "purged records older than" in capsys.readouterr().out


def _free_port() -> int:
    """A port for the demo hub whose next port (the LINE stand-in's) is free too.

    Not a port from `bind(0)`: those come from the kernel's ephemeral range, which every other test
    asking for a free port (and every outgoing connection) draws from, and the demo binds its ports
    again on each run, so a test running beside this one could take them in between. Below that range
    only a fixed-port listener could collide, and both ports are checked free first."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low - 2)
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two free ports next to each other below the ephemeral range")


def test_demo_serves_and_admin_can_log_in(tmp_path):
    """`checkpass hub demo` end to end: a real process, a real port, the printed login works."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioning",
            "hub",
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "key passphrase" in line:
                break
        out = "".join(lines)
        assert "admin login" in out and "/console/" in out, out
        mobile = out.split("mobile ")[1].split()[0]
        password = out.split("password ")[1].split()[0]
        passes = sorted(Path(tmp_path / "demo" / "passes").glob("*.png"))
        assert len(passes) == 3 and passes[0].read_bytes().startswith(b"\x89PNG")
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        r = httpx.post(f"{base}/api/v1/auth/login", json={"mobile": mobile, "password": password}, timeout=60)
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        rows = httpx.get(f"{base}/api/v1/queries/passes", headers={"Authorization": f"Bearer {token}"}).json()
        assert rows["count"] == 3
        assert httpx.get(f"{base}/docs").status_code == 200
        # the schema is built on its first request: seconds on a loaded 2-core CI machine
        schema = httpx.get(f"{base}/openapi.json", timeout=60)
        assert json.loads(schema.text)["info"]["title"] == "Checkpass hub"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_and_purge_before_init_are_usage_errors(hub_env, capsys):
    assert main(["hub", "serve", "--port", "1"]) == 2
    assert "hub init" in capsys.readouterr().err
    assert main(["hub", "purge"]) == 2


def _run_on_terminal(argv: list[str], env: dict[str, str], typed: bytes, cwd: Path) -> tuple[int, str]:
    """Run `checkpass` on a real pseudo-terminal, typing `typed` at its prompts (getpass reads /dev/tty)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: a new session whose controlling terminal is the pty
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "provisioning", *argv], env)
    output = b""
    deadline = time.monotonic() + 60
    sent = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not sent and b"passphrase" in output.lower():
            os.write(fd, typed)
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_init_asks_for_the_passphrase_on_a_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_") and k != "CHECKPASS_PASSPHRASE"}
    env |= {
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "HUB_KEYS_DIR": str(tmp_path / "keys"),
        "HUB_SMS_GATEWAY": "file",
        "HUB_SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
    }
    code, out = _run_on_terminal(
        ["hub", "init", "--super-admin", "0911000001"], env, b"typed pass\r", tmp_path
    )
    assert code == 0, out
    assert "Traceback" not in out
    # The typed passphrase really is the one that opens the keys.
    from provisioning.keystore import KeyStore

    assert KeyStore(tmp_path / "keys", "typed pass").active_issuer()
    # Ctrl-D at the prompt is a usage error, not a traceback.
    code, out = _run_on_terminal(["hub", "init", "--super-admin", "0911000001"], env, b"\x04", tmp_path)
    assert code == 2 and "Traceback" not in out and "passphrase" in out


def _demo_once(directory: Path, port: int) -> str:
    """`checkpass hub demo --no-serve` in its own process (as `make demo` runs it); its printout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "provisioning",
            "hub",
            "demo",
            "--dir",
            str(directory),
            "--port",
            str(port),
            "--no-serve",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_demo_rerun_prints_what_is_true(tmp_path):
    """A second run after an admin revoked a pass and changed the password: it re-issues nothing, prints
    no stale password, and leaves one file per valid pass (no two `pass-2-*`)."""
    import sqlalchemy as sa

    from hub.services.identity import hash_password

    directory = tmp_path / "demo"
    port = _free_port()
    first = _demo_once(directory, port)
    assert "password demo-admin-2026" in first and "(3 valid passes" in first
    first_files = sorted(p.name for p in (directory / "passes").iterdir())
    assert len(first_files) == 6

    engine = sa.create_engine(f"sqlite:///{directory / 'hub.db'}")
    with engine.begin() as db:
        revoked_id = db.execute(
            sa.text("SELECT pass_id FROM passes ORDER BY id LIMIT 1 OFFSET 1")
        ).scalar_one()
        db.execute(
            sa.text("UPDATE passes SET revoked_at = CURRENT_TIMESTAMP WHERE pass_id = :p"), {"p": revoked_id}
        )
        db.execute(
            sa.text("UPDATE users SET password_hash = :h WHERE mobile = '+886911000000'"),
            {"h": hash_password("someone-changed-it-1")},
        )
        before = db.execute(sa.text("SELECT count(*) FROM passes")).scalar_one()

    second = _demo_once(directory, port)
    with engine.begin() as db:
        assert db.execute(sa.text("SELECT count(*) FROM passes")).scalar_one() == before  # nothing re-issued
    engine.dispose()
    assert "demo-admin-2026" not in second and "changed since the first run" in second
    assert "(2 valid passes" in second and "revoked, not re-issued: 林*玲" in second
    assert f"LINE phone:    http://127.0.0.1:{port + 1}/phone " in second  # the phone is there again
    files = sorted(p.name for p in (directory / "passes").iterdir())
    assert len(files) == 4 and not any(revoked_id[:8] in name for name in files)
    assert len({name.split("-")[1] for name in files}) == 2  # numbers 1 and 2, each once

    third = _demo_once(directory, port)  # and a third run says the same
    assert (
        third.replace(str(directory), "").splitlines()[:12]
        == second.replace(str(directory), "").splitlines()[:12]
    )
