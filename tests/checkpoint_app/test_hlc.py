from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from checkpoint_app.hlc import HybridClock, format_hlc, parse_hlc


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2_000_000_000_000)), min_size=1, max_size=60))
def test_strictly_increasing_whatever_the_clocks_do(steps: list[tuple[bool, int]]) -> None:
    clock = HybridClock()
    seen: list[str] = []
    for is_remote, ms in steps:
        # The physical clock jumps around (dead battery, manual change); remote times too.
        stamp = clock.observe(ms, 0, now=ms / 1000 - 5) if is_remote else clock.tick(now=ms / 1000)
        seen.append(stamp)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert all(parse_hlc(s)[0] >= 0 for s in seen)


def test_restart_continues_after_last_stamp() -> None:
    clock = HybridClock()
    last = clock.observe(9_000_000_000_000)  # a hub far in the future
    again = HybridClock(last)
    assert again.tick(now=1.0) > last


def test_format_sorts_like_numbers() -> None:
    assert format_hlc(999, 5) < format_hlc(1000, 0) < format_hlc(1000, 1)
    assert parse_hlc(format_hlc(1234, 56)) == (1234, 56)
