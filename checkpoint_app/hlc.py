"""Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a counter.

Scan events carry it so the hub can order a device's events even when the device clock jumps
backwards (a phone with a dead battery, a manual time change). The text form sorts the same way
as the clock: "<13-digit ms>:<5-digit counter>".
"""

from __future__ import annotations

import threading
import time


def format_hlc(wall_ms: int, counter: int) -> str:
    return f"{wall_ms:013d}:{counter:05d}"


def parse_hlc(text: str) -> tuple[int, int]:
    wall, _, counter = text.partition(":")
    if not wall.isdigit() or not counter.isdigit():
        raise ValueError(f"not an HLC timestamp: {text!r}")
    return int(wall), int(counter)


class HybridClock:
    def __init__(self, last: str | None = None) -> None:
        self._lock = threading.Lock()
        self._wall, self._counter = parse_hlc(last) if last else (0, 0)

    def tick(self, now: float | None = None) -> str:
        """A local event (a scan): strictly greater than every timestamp given out or observed."""
        physical = int((time.time() if now is None else now) * 1000)
        with self._lock:
            if physical > self._wall:
                self._wall, self._counter = physical, 0
            else:
                self._counter += 1
            return format_hlc(self._wall, self._counter)

    def observe(self, remote_wall_ms: int, remote_counter: int = 0, now: float | None = None) -> str:
        """A received timestamp (the hub's server_time): the clock moves past it."""
        physical = int((time.time() if now is None else now) * 1000)
        with self._lock:
            top = max(self._wall, remote_wall_ms, physical)
            if top == self._wall == remote_wall_ms:
                self._counter = max(self._counter, remote_counter) + 1
            elif top == self._wall:
                self._counter += 1
            elif top == remote_wall_ms:
                self._counter = remote_counter + 1
            else:
                self._counter = 0
            self._wall = top
            return format_hlc(self._wall, self._counter)

    def current(self) -> str:
        with self._lock:
            return format_hlc(self._wall, self._counter)
