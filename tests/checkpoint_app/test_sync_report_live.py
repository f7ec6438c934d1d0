"""The checkpoint tells a real hub its app version and upload queue (docs/checkpoint-sync.md)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from checkpoint_app import hubclient
from checkpoint_app.version import app_version
from tests.checkpoint_app.livehub import LiveHub
from tests.checkpoint_app.test_sync_live import enrolled_service, hub_passes


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    live = LiveHub(tmp_path / "hub")
    live.prepare()
    live.start()
    yield live
    live.close()


def hub_device(hub: LiveHub) -> dict[str, Any]:
    """The device row as the hub stored it (one device per test)."""
    with hub.engine.connect() as connection:
        (row,) = connection.execute(
            text(
                "SELECT app_version, queue_waiting, queue_oldest_age_s, queue_reported_at, last_sync_at"
                " FROM devices"
            )
        ).mappings()
        return dict(row)


def test_app_version_is_the_package_version() -> None:
    assert app_version() == importlib.metadata.version("checkpass")


def test_every_upload_reports_version_and_an_empty_queue(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(hub, tmp_path / "device")
    try:
        before = hub_device(hub)
        assert (before["app_version"], before["queue_waiting"], before["last_sync_at"]) == (None, None, None)
        for pass_text in hub_passes(hub, 3):
            service.check_pass(pass_text)
        report = service.sync_now()
        assert (report.accepted, report.batches, report.error) == (3, 1, None)
        after = hub_device(hub)
        assert after["app_version"] == app_version()
        assert (after["queue_waiting"], after["queue_oldest_age_s"]) == (0, None)
        assert after["last_sync_at"] is not None
    finally:
        service.close()


def test_a_backlog_cut_short_shows_on_the_hub(
    hub: LiveHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two hours offline, five scans, the network lost again after the first batch of two: the hub knows
    three are still waiting and that the oldest is two hours old."""
    service = enrolled_service(hub, tmp_path / "device", batch_size=2)
    try:
        for pass_text in hub_passes(hub, 5):
            service.check_pass(pass_text)
        # As if scanned while offline: the device's own clock says these were made 2-3 hours ago.
        service.store.db.execute("UPDATE events SET scanned_at = scanned_at - 7200 - 600 * (5 - seq)")
        service.store.db.conn.commit()

        real_upload = hubclient.HubClient.upload_batch
        calls = []

        def upload_then_lose_network(self: Any, device_id: str, body: bytes, signature: bytes) -> Any:
            calls.append(body)
            answer = real_upload(self, device_id, body, signature)
            hub.stop()  # the next batch meets a closed port, as when the network drops
            return answer

        monkeypatch.setattr(hubclient.HubClient, "upload_batch", upload_then_lose_network)
        report = service.sync_now()
        assert report.accepted == 2 and report.error is not None and not report.online
        assert service.sync_status().queued == 3
        row = hub_device(hub)
        assert row["queue_waiting"] == 3
        # Events with seq 3, 4, 5 wait; seq 3 was scanned 7200 + 600 * 2 s ago (give or take the test's run).
        assert 8400 <= row["queue_oldest_age_s"] <= 8400 + 60

        hub.start()
        monkeypatch.setattr(hubclient.HubClient, "upload_batch", real_upload)
        again = service.sync_now()
        assert (again.accepted, again.error) == (3, None)
        row = hub_device(hub)
        assert (row["queue_waiting"], row["queue_oldest_age_s"]) == (0, None)
    finally:
        service.close()


def test_nothing_to_upload_sends_a_status_report_when_due(hub: LiveHub, tmp_path: Path) -> None:
    service = enrolled_service(hub, tmp_path / "device", report_interval_s=3600)
    try:
        # The first round after start-up tells the hub the device is alive, even with nothing scanned.
        first = service.sync_now()
        assert (first.batches, first.uploaded, first.error) == (1, 0, None)
        row = hub_device(hub)
        assert (row["app_version"], row["queue_waiting"]) == (app_version(), 0)
        synced = row["last_sync_at"]
        assert synced is not None
        # Within the report interval an idle round sends nothing (trust data is still refreshed).
        second = service.sync_now()
        assert (second.batches, second.error) == (0, None)
        assert hub_device(hub)["last_sync_at"] == synced
        # Once it is due, the next idle round reports again.
        assert service._sync is not None
        service._sync.report_interval_s = 0
        third = service.sync_now()
        assert (third.batches, third.error) == (1, None)
        assert hub_device(hub)["last_sync_at"] > synced
        assert hub.scans() == []
    finally:
        service.close()
