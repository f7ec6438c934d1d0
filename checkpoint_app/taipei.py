"""Times a person reads are Taipei times, whatever the device's own time zone says.

The printed pass (hub) and the app must agree: a tablet left on UTC showed validity 8 hours off
the paper. Taiwan has kept UTC+8 without daylight saving since 1979, so a fixed offset is the
fallback where the tz database is missing (some Android builds).
"""

from __future__ import annotations

import datetime as dt

try:
    from zoneinfo import ZoneInfo

    TAIPEI: dt.tzinfo = ZoneInfo("Asia/Taipei")
except Exception:  # noqa: BLE001 - no tz database on this device
    TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")


def taipei_text(epoch: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`epoch` (seconds) as Taipei wall time in `fmt`; "—" for no time."""
    if not epoch:
        return "—"
    return dt.datetime.fromtimestamp(epoch, TAIPEI).strftime(fmt)
