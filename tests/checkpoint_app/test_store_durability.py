"""The device key file survives a power cut once enrolment says it is written (tests/durability.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint_app.store import Store
from tests.durability import record_fsyncs


def test_device_key_is_fsynced_before_and_after_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "device")
    try:
        store.write_device_key(b"a" * 32)  # a half-finished enrolment's key, replaced below
        log = record_fsyncs(monkeypatch)
        store.write_device_key(b"k" * 32)
        log.assert_durably_replaced(store.key_path, b"k" * 32)
        assert store.read_device_key_seed() == b"k" * 32
    finally:
        store.close()
