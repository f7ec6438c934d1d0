"""Time, said once: the hub stores and speaks UTC; what a person reads is in Asia/Taipei and says so.

(There used to be a private `_aware`/`_utc` in five modules, with three different meanings; these are
their one home, under names that say which meaning. `hub.db.utcnow` is the current time.)
"""

from __future__ import annotations

import datetime as dt

from crypto.local_time import TAIPEI, in_taipei, taipei_text
from hub.services.errors import Rejected

__all__ = ["TAIPEI", "as_utc", "in_taipei", "require_aware", "taipei_label", "taipei_minute", "taipei_words"]


def as_utc(value: dt.datetime | str) -> dt.datetime:
    """A datetime read back from storage, as aware UTC: a naive one is UTC by the hub's convention (an
    aggregate like max() over a UTC column comes back naive, or as text, on SQLite)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def require_aware(value: dt.datetime | None, field: str | None = None) -> dt.datetime | None:
    """A time given by a caller must say its offset: a naive one is ambiguous by eight hours here."""
    if value is not None and value.tzinfo is None:
        raise Rejected(
            reason="invalid_request",
            detail="give times with a timezone (e.g. 2026-01-01T00:00:00+08:00)",
            field=field,
        )
    return value


def taipei_label(moment: dt.datetime | int) -> str:
    """An instant for a person (an operator's terminal, a refusal's detail, a printout, a chat message):
    Asia/Taipei, saying so."""
    # One format for every front end and the `checkpass` command: crypto.local_time (docs/operations.md).
    return taipei_text(moment if isinstance(moment, int) else as_utc(moment))


def taipei_words(moment: dt.datetime) -> str:
    """An instant in a sentence a person reads in Chinese (a chat message, who read my data):
    「2026/12/02 14:00（台北時間）」. A naive datetime is UTC, as everywhere in the hub."""
    return taipei_minute(moment) + "（台北時間）"


def taipei_minute(moment: dt.datetime) -> str:
    """The instant to the minute in Taipei, 「2026/12/02 14:00」, for a sentence that says the zone in
    its own language (the LIFF pages: `liff.at_taipei`)."""
    return in_taipei(as_utc(moment)).strftime("%Y/%m/%d %H:%M")
