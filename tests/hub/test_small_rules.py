"""Each small rule once: "is this pass valid now" (hub.services.passes) and a time in words
(hub.core.clock), as the lists, the chat, the links and the ID-card check use them."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from hub.core.clock import taipei_words
from hub.services.passes import in_force, valid_now

NOW = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _pass(not_before: dt.datetime, expires_at: dt.datetime, revoked_at: dt.datetime | None = None) -> object:
    return SimpleNamespace(not_before=not_before, expires_at=expires_at, revoked_at=revoked_at)


def test_a_pass_is_valid_until_it_expires_or_is_revoked():
    live = _pass(NOW - HOUR, NOW + HOUR)
    assert valid_now(live, NOW) and in_force(live, NOW)
    assert not valid_now(live, NOW + HOUR)  # the moment it expires it is no longer valid
    assert not valid_now(_pass(NOW - HOUR, NOW + HOUR, revoked_at=NOW - HOUR), NOW)
    assert not valid_now(_pass(NOW - 2 * HOUR, NOW - HOUR), NOW)


def test_a_pass_not_yet_in_force_is_kept_but_not_accepted_yet():
    later = _pass(NOW + HOUR, NOW + 2 * HOUR)
    assert valid_now(later, NOW) and not in_force(later, NOW)
    assert in_force(later, NOW + HOUR)


def test_a_time_in_words_is_taipei_and_says_so_whatever_the_storage_gave():
    assert taipei_words(NOW) == "2026/12/07 12:00（台北時間）"
    assert taipei_words(NOW.replace(tzinfo=None)) == "2026/12/07 12:00（台北時間）"  # naive is UTC
    assert taipei_words(NOW.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == "2026/12/07 12:00（台北時間）"
