"""Times as people read them: Asia/Taipei, and saying so.

Machines exchange UTC (epoch seconds in passes and bundles, ISO 8601 with an offset in the REST API).
Everything a person reads — the printed pass, posters, exports, the `checkpass` command's output, the
checkpoint's verdict — shows Taiwan time with its offset written out, e.g. "2026-12-02 14:00 (UTC+8)",
so that a printed pass and a verdict on a screen can never look 8 hours apart. Taiwan has kept UTC+8
without daylight saving since 1980, so a fixed offset is exact for every time this system handles and
needs no time-zone database on the device.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

TAIPEI = timezone(timedelta(hours=8), "UTC+8")
TAIPEI_LABEL = "UTC+8"
# The same offset as an Excel number format suffix, so a spreadsheet cell stays a sortable date.
TAIPEI_EXCEL_FORMAT = 'yyyy-mm-dd hh:mm "(UTC+8)"'


def _aware(moment: int | float | datetime) -> datetime:
    if isinstance(moment, datetime):
        # A naive datetime here is one of ours, and ours are UTC (hub.db stores UTC).
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment, UTC)


def in_taipei(moment: int | float | datetime) -> datetime:
    """The moment as an aware datetime in Taiwan time."""
    return _aware(moment).astimezone(TAIPEI)


def taipei_text(moment: int | float | datetime, *, seconds: bool = False) -> str:
    """'2026-12-02 14:00 (UTC+8)' for epoch seconds or a datetime (naive means UTC)."""
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{in_taipei(moment).strftime(pattern)} ({TAIPEI_LABEL})"


def taipei_iso(moment: int | float | datetime) -> str:
    """ISO 8601 in Taiwan time with its offset ('2026-12-02T14:00:00+08:00'), for exports."""
    return in_taipei(moment).isoformat()
