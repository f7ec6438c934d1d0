"""Times for people: Taiwan time with the offset written out, the same from epoch seconds and datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from crypto.local_time import in_taipei, taipei_iso, taipei_text

NOW = 1_790_000_000  # 2026-09-21 14:13:20 UTC


def test_epoch_and_datetimes_read_the_same_in_taiwan_time() -> None:
    assert taipei_text(NOW) == "2026-09-21 22:13 (UTC+8)"
    assert taipei_text(NOW, seconds=True) == "2026-09-21 22:13:20 (UTC+8)"
    aware = datetime.fromtimestamp(NOW, UTC)
    assert taipei_text(aware) == taipei_text(aware.replace(tzinfo=None)) == taipei_text(NOW)
    other_zone = aware.astimezone(timezone(timedelta(hours=-5)))
    assert taipei_text(other_zone) == taipei_text(NOW)
    assert taipei_iso(NOW) == "2026-09-21T22:13:20+08:00"
    assert in_taipei(NOW).utcoffset() == timedelta(hours=8)


@given(st.integers(min_value=315_532_800, max_value=4_102_444_800))  # 1980 .. 2100
def test_the_fixed_offset_agrees_with_the_time_zone_database(epoch: int) -> None:
    # Taiwan has had no daylight saving since 1980: the fixed UTC+8 is Asia/Taipei.
    database = datetime.fromtimestamp(epoch, ZoneInfo("Asia/Taipei"))
    assert in_taipei(epoch).replace(tzinfo=None) == database.replace(tzinfo=None)
