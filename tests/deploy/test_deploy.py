"""The production layout in deploy/ is checked by the tools that will run it (docs/deploy.md):
`nginx -t` on the proxy config, `systemd-analyze verify` on the units, and a backup/restore drill on a
scratch PostgreSQL database. Under CI (CI=true or 1) none of them may skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.db import make_engine
from hub.migrations import upgrade_to_head
from tests.ci import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _need(tool: str) -> str:
    found = shutil.which(tool) or next(
        (str(p) for p in (Path("/usr/sbin") / tool, Path("/usr/bin") / tool) if p.exists()), None
    )
    if found is None:
        skip_or_fail(f"{tool} is not installed (scripts/bootstrap installs it)")
    assert found is not None
    return found


def _nginx_check(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    nginx = _need("nginx")
    openssl = _need("openssl")
    tls = tmp_path / "tls"
    tls.mkdir()
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-days", "1", "-subj", "/CN=hub.checkpass.example",
         "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    (tmp_path / "checkpass.conf").write_text(site.replace("/etc/checkpass/tls", str(tls)))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/checkpass.conf;\n}}\n"
    )
    return subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True,
    )  # fmt: skip


def test_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    result = _nginx_check(tmp_path, (DEPLOY / "nginx" / "checkpass.conf").read_text())
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_nginx_check_catches_a_broken_config(tmp_path: Path) -> None:
    """The check above can fail: a directive nginx does not know is refused."""
    site = (DEPLOY / "nginx" / "checkpass.conf").read_text().replace("least_conn;", "least_conn_typo;")
    result = _nginx_check(tmp_path, site)
    assert result.returncode != 0 and "least_conn_typo" in result.stderr


def _verify_units(tmp_path: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    tool = _need("systemd-analyze")
    for name in names:
        unit = (DEPLOY / "systemd" / name).read_text()
        # The units name the installed paths; here they point at this checkout so the binaries exist.
        unit = unit.replace("/opt/checkpass/.venv/bin/python", sys.executable)
        unit = unit.replace("/opt/checkpass/deploy", str(DEPLOY))
        (tmp_path / name).write_text(unit)
    return subprocess.run(
        [tool, "verify", *(str(tmp_path / n) for n in names)], capture_output=True, text=True
    )


def test_systemd_units_verify(tmp_path: Path) -> None:
    result = _verify_units(
        tmp_path, ["checkpass-hub.service", "checkpass-backup.service", "checkpass-backup.timer"]
    )
    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if "checkpass" in line]
    assert ours == [], result.stderr  # not even a warning about our own units


def test_systemd_verify_catches_a_missing_binary(tmp_path: Path) -> None:
    tool = _need("systemd-analyze")
    bad = tmp_path / "checkpass-bad.service"
    bad.write_text("[Service]\nExecStart=/nonexistent/checkpass\n")
    result = subprocess.run([tool, "verify", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0


@pytest.fixture
def scratch_databases() -> list[str]:
    """Empty scratch databases on the test server: the live one, a restore target, and a target for a
    damaged dump."""
    server = os.environ.get("HUB_TEST_POSTGRES_URL")
    if not server:
        skip_or_fail("PostgreSQL is not configured (HUB_TEST_POSTGRES_URL)")
    base = make_url(server).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    names = [f"drill_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("live", "restored", "damaged")]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_backup_and_restore_drill(tmp_path: Path, scratch_databases: list[str]) -> None:
    _need("pg_dump")
    live, restored, damaged = scratch_databases
    engine = make_engine(live)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO issuer_keys (kid, next_serial, status_counter, created_at)"
                          " VALUES ('0123456789abcdef', 42, 3, now())"))  # fmt: skip
        conn.execute(text("INSERT INTO job_runs (name, runs) VALUES ('retention.purge', 7)"))
    engine.dispose()

    backups = tmp_path / "backups"
    env = dict(os.environ, CHECKPASS_BACKUP_URL=_libpq(live), CHECKPASS_BACKUP_DIR=str(backups))
    made = subprocess.run(
        [str(DEPLOY / "backup" / "checkpass-backup")], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip())
    assert dump.parent == backups and dump.stat().st_size > 0
    assert oct(dump.stat().st_mode & 0o777) == "0o600"  # personal data: the operator's eyes only
    assert not list(backups.glob("*.part"))

    done = subprocess.run(
        [str(DEPLOY / "backup" / "checkpass-restore"), str(dump), _libpq(restored)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "alembic" in done.stdout

    engine = make_engine(restored)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT next_serial, status_counter FROM issuer_keys")).one() == (42, 3)
        assert conn.execute(text("SELECT runs FROM job_runs")).scalar() == 7
    upgrade_to_head(engine)  # the restored database is a hub database: migrations find it current
    engine.dispose()

    # A damaged dump is refused and leaves its target empty (one transaction).
    broken = tmp_path / "broken.dump"
    broken.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    failed = subprocess.run(
        [str(DEPLOY / "backup" / "checkpass-restore"), str(broken), _libpq(damaged)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert failed.returncode != 0
    engine = make_engine(damaged)
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
    engine.dispose()
    assert tables == 0
