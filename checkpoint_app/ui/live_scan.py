"""The camera loop behind the scan and enrol screens, without Kivy so it is testable headless.

Two threads: *capture* reads frames as fast as the source gives them and only ever keeps the
newest one; *decode* takes the newest frame, decodes it and hands the texts to a handler. A frame
the decoder had no time for is overwritten, never queued, so a slow decode can't build a backlog
and the verdict is always about what the camera sees now. The UI thread polls `preview()` for
the newest frame to draw; it never waits for either thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class FrameSource(Protocol):
    def read(self) -> Any: ...  # a BGR numpy frame, or None when no frame is ready

    def close(self) -> None: ...


class LatestSlot(Generic[T]):
    """A one-item mailbox: `put` replaces what is there (counting it as dropped), `take` empties it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._serial = 0
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._serial += 1
            self._cond.notify()

    def take(self, timeout: float) -> T | None:
        with self._cond:
            if self._item is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def peek(self) -> tuple[int, T | None]:
        """(serial, item) without emptying: lets a poller skip a frame it has already drawn."""
        with self._cond:
            return self._serial, self._item

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


@dataclass
class ScanStats:
    captured: int = 0
    decoded: int = 0
    handled: int = 0
    decode_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class RepeatFilter:
    """Ignore a code already acted on while it stays in view: a pass held up is one scan, not twenty.

    A remembered code is forgotten once it has been out of sight for `cooldown_s`; every sighting
    restarts that wait. Codes a screen did not act on (a pass shown to the enrolment screen) are
    not remembered. It outlives one LiveScanner, so leaving the verdict screen with the same pass
    still in front of the camera does not log it again.
    """

    def __init__(self, cooldown_s: float = 4.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def fresh(self, texts: list[str]) -> list[str]:
        """The texts not acted on recently; the others count as seen again now."""
        now = self._clock()
        with self._lock:
            self._seen = {t: at for t, at in self._seen.items() if now - at < self.cooldown_s}
            new = []
            for text in texts:
                if text in self._seen:
                    self._seen[text] = now
                else:
                    new.append(text)
            return new

    def remember(self, texts: list[str]) -> None:
        now = self._clock()
        with self._lock:
            for text in texts:
                self._seen[text] = now


# A handler gets the decoded texts on the decode thread and returns True when it acted on them;
# the scanner then pauses decoding until `resume()` (the screen shows the verdict meanwhile).
CodeHandler = Callable[[list[str]], bool]


class LiveScanner:
    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        decode: Callable[[Any], list[str]],
        handle: CodeHandler,
        *,
        on_error: Callable[[BaseException], None] | None = None,
        max_fps: float = 30.0,
        repeat_filter: RepeatFilter | None = None,
    ) -> None:
        self._open_source = open_source
        self._decode = decode
        self._handle = handle
        self._on_error = on_error
        self._min_interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self.repeats = repeat_filter or RepeatFilter()
        self._decode_slot: LatestSlot[Any] = LatestSlot()
        self._preview_slot: LatestSlot[Any] = LatestSlot()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._threads: list[threading.Thread] = []
        self._source: FrameSource | None = None
        self.stats = ScanStats()
        self.error: BaseException | None = None

    # -- life cycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._capture_loop, name="checkpoint-capture", daemon=True),
            threading.Thread(target=self._decode_loop, name="checkpoint-decode", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._decode_slot.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def preview(self) -> tuple[int, Any]:
        """(serial, newest frame) for the screen; the serial changes whenever a new frame arrived."""
        return self._preview_slot.peek()

    @property
    def dropped(self) -> int:
        """Frames the decoder never saw because a newer one replaced them (by design)."""
        return self._decode_slot.dropped

    # -- threads -------------------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self._stop.set()
        self._decode_slot.wake()
        if self._on_error is not None:
            self._on_error(exc)

    def _capture_loop(self) -> None:
        try:
            source = self._open_source()
        except Exception as exc:  # a missing camera or file is shown on screen, not raised
            self._fail(exc)
            return
        self._source = source
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                frame = source.read()
                if frame is not None:
                    self.stats.captured += 1
                    self._preview_slot.put(frame)
                    if not self._paused.is_set():
                        self._decode_slot.put(frame)
                # A file source answers instantly; pacing it like a camera keeps the CPU for decoding.
                spare = self._min_interval - (time.monotonic() - started)
                if spare > 0 or frame is None:
                    self._stop.wait(max(spare, 0.005))
        except Exception as exc:
            self._fail(exc)
        finally:
            try:
                source.close()
            except Exception:  # closing a dead camera must not hide the first error
                pass

    def _decode_loop(self) -> None:
        while not self._stop.is_set():
            frame = self._decode_slot.take(timeout=0.2)
            if frame is None or self._paused.is_set():
                continue
            try:
                texts = self._decode(frame)
            except Exception:
                # One undecodable frame (odd size, driver glitch) must not end scanning.
                self.stats.decode_errors += 1
                continue
            self.stats.decoded += 1
            texts = self.repeats.fresh(texts) if texts else []
            if not texts:
                continue
            try:
                acted = self._handle(texts)
            except Exception as exc:
                self._fail(exc)
                return
            if acted:
                self.repeats.remember(texts)
                self.stats.handled += 1
                self._paused.set()
