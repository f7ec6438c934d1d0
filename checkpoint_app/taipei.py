"""Times a person reads are Taipei times, whatever the device's own time zone says.

The printed pass (hub) and the app must agree: a tablet left on UTC showed validity 8 hours off
the paper. The conversion is the one the hub uses (`crypto.local_time`: a fixed UTC+8, which Taiwan
has kept without daylight saving since 1979, so no time-zone database is needed on the device).
"""

from __future__ import annotations

from crypto.local_time import TAIPEI, in_taipei

__all__ = ["TAIPEI", "taipei_text"]


def taipei_text(epoch: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`epoch` (seconds) as Taipei wall time in `fmt`; "—" for no time."""
    if not epoch:
        return "—"
    return in_taipei(epoch).strftime(fmt)
