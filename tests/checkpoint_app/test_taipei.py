"""Times a person reads are Asia/Taipei, whatever the device's time zone (issue 7: 8 hours off)."""

from __future__ import annotations

import time

import pytest

from checkpoint_app.taipei import taipei_text

# 2026-01-01 00:30 UTC is 08:30 in Taipei.
EPOCH = 1_767_227_400


@pytest.fixture
def device_on_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_device_on_utc_still_shows_taipei_time(device_on_utc):
    assert time.strftime("%H:%M", time.localtime(EPOCH)) == "00:30"  # what the app used to show
    assert taipei_text(EPOCH) == "2026-01-01 08:30"
    assert taipei_text(EPOCH, "%H:%M:%S") == "08:30:00"
    assert taipei_text(None) == "—"


def test_the_verdict_and_history_say_taipei(device_on_utc):
    from checkpoint_app.ui import i18n

    assert "臺北時間" in i18n.tr("verdict_valid_until", "zh", when=taipei_text(EPOCH))
    assert "Taipei time" in i18n.tr("verdict_valid_until", "en", when=taipei_text(EPOCH))
    assert "臺北時間" in i18n.tr("history_title", "zh")
