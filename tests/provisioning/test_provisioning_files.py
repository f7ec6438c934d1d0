"""Key files and the audit append are durable when the call returns (tests/durability.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.files import append_private, write_private
from tests.durability import record_fsyncs


def test_write_private_fsyncs_the_file_then_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "keys" / "root.key"
    write_private(target, b"old")
    log = record_fsyncs(monkeypatch)
    write_private(target, b"new key bytes")
    log.assert_durably_replaced(target, b"new key bytes")
    assert target.read_bytes() == b"new key bytes"
    assert target.stat().st_mode & 0o777 == 0o600


def test_append_private_fsyncs_the_appended_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "log.jsonl"
    append_private(target, b"first\n")
    log = record_fsyncs(monkeypatch)
    append_private(target, b"second\n")
    log.assert_fsynced_with(target, b"second\n")
    assert target.read_bytes() == b"first\nsecond\n"
