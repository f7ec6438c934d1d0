"""A short field day (deploy/rehearsal/field.py): nginx with TLS in front of two hub processes on
PostgreSQL, LINE and SMS stand-ins, faults (SIGKILL, PostgreSQL restart, LINE and SMS down); enterprises
registering in LIFF, employees binding in LINE chat, the employee spreadsheet imported and passes issued in
the console in Chromium. The invariants are the rehearsal's own: every acknowledged write (registrations
and bindings among them) stored exactly once, revocations reach both
checkpoints within the stated bound, no 5xx but a deliberate 503 with Retry-After, no personal data in
the logs. Needs nginx, openssl, PostgreSQL and root for pg_createcluster (the rehearsal makes a cluster of
its own, so restarting it disturbs no other test); under CI none of them may skip."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.ci import skip_or_fail


def _ready() -> None:
    for tool in ("nginx", "openssl", "pg_createcluster", "pg_ctlcluster", "pg_lsclusters"):
        if shutil.which(tool) is None and not (Path("/usr/sbin") / tool).exists():
            skip_or_fail(f"{tool} is not installed (scripts/bootstrap installs it)")
    if os.geteuid() != 0:
        skip_or_fail("a PostgreSQL cluster of its own (pg_createcluster) needs root")


@pytest.mark.timeout(420)
def test_a_short_field_day_keeps_the_invariants(tmp_path: Path) -> None:
    _ready()
    from deploy.rehearsal.field import REVOCATION_BOUND_S, rehearse

    report = rehearse(45.0, tmp_path)
    print(report.render())
    assert report.violations == [], report.render()
    # The day happened: each kind of traffic went through, and each fault was injected.
    counts = report.counts
    # The morning's registration, one begun in each fault and two more; the eight employees binding, one
    # in each fault. Each acknowledged one is checked stored exactly once (the invariants).
    assert counts["registrations and bindings begun in a fault"] == 10
    assert counts["registrations acked (LIFF)"] >= 6 and counts["bindings acked (LINE chat)"] >= 5
    assert counts["employees imported (console)"] == 8 and counts["passes issued (console)"] == 8
    assert counts["passes issued"] == 8 and counts["passes revoked"] == 2
    assert counts["LINE events acked"] > 20 and counts["visits acked"] > 3
    assert counts["scans cp1 recorded"] > 10 and counts["scans cp2 recorded"] > 10
    assert counts["purge job exit"] == 0
    assert len(report.faults) == 5
    assert all(delay <= REVOCATION_BOUND_S for delay in report.revocation_delays.values())
    assert len(report.revocation_delays) == 2
