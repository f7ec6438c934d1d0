"""The camera loop behind the scan screen, without a display: newest frame wins, no backlog."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from checkpass_testkit.synthetic import place, qr_image
from checkpoint_app.decoder import DecoderChain
from checkpoint_app.frames import open_source
from checkpoint_app.ui.live_scan import LatestSlot, LiveScanner, RepeatFilter


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class NumberedCamera:
    """A camera stand-in that numbers its frames (pixel [0, 0] holds the number mod 256)."""

    def __init__(self) -> None:
        self.count = 0
        self.closed = False

    def read(self) -> np.ndarray:
        self.count += 1
        frame = np.zeros((4, 4), dtype=np.uint8)
        frame[0, 0] = self.count % 256
        frame[0, 1] = self.count // 256
        return frame

    def close(self) -> None:
        self.closed = True


def frame_number(frame: np.ndarray) -> int:
    return int(frame[0, 0]) + 256 * int(frame[0, 1])


def test_latest_slot_keeps_only_the_newest():
    slot: LatestSlot[int] = LatestSlot()
    for i in range(100):
        slot.put(i)
    assert slot.take(timeout=0) == 99
    assert slot.dropped == 99
    assert slot.take(timeout=0.01) is None  # emptied: nothing queued behind it


def test_slow_decoder_always_gets_the_newest_frame_and_no_backlog():
    camera = NumberedCamera()
    seen: list[tuple[int, int]] = []  # (frame decoded, frames captured by then)

    def slow_decode(frame: np.ndarray) -> list[str]:
        time.sleep(0.03)  # a decoder slower than the camera
        seen.append((frame_number(frame), camera.count))
        return []

    scanner = LiveScanner(lambda: camera, slow_decode, lambda texts: True, max_fps=500)
    scanner.start()
    try:
        assert wait_until(lambda: len(seen) >= 10)
    finally:
        scanner.stop()
    assert camera.closed
    numbers = [n for n, _ in seen]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # never an old frame again
    # Each decode started on a frame at most a couple of captures old, however long the run:
    # frames the decoder had no time for were dropped, not queued.
    assert all(captured_then - n <= 40 for n, captured_then in seen[1:])
    assert scanner.dropped > 0
    assert scanner.stats.decoded == len(seen)


def test_handler_acts_once_then_scanning_pauses_until_resumed(tmp_path: Path):
    text = "TP1:HELLO-PASS"
    path = tmp_path / "pass.png"
    cv2.imwrite(str(path), place(qr_image(text, module_px=6), np.random.default_rng(3)))
    calls: list[list[str]] = []
    acted = threading.Event()

    def handle(texts: list[str]) -> bool:
        calls.append(texts)
        acted.set()
        return True

    repeats = RepeatFilter(cooldown_s=0.3)
    scanner = LiveScanner(
        lambda: open_source(f"file:{path}"), DecoderChain().decode, handle, repeat_filter=repeats
    )
    scanner.start()
    try:
        assert acted.wait(5)
        assert scanner.paused
        time.sleep(0.2)
        assert calls == [[text]]  # paused: the frames keep coming, no second verdict
        scanner.resume()
        time.sleep(0.5)
        # Still in view: a pass held up is one scan, even after the cooldown has passed.
        assert calls == [[text]]
        assert scanner.preview()[1] is not None  # while the screen keeps showing the camera
    finally:
        scanner.stop()


def test_repeat_filter_forgets_a_code_once_out_of_sight():
    now = [0.0]
    repeats = RepeatFilter(cooldown_s=4.0, clock=lambda: now[0])
    assert repeats.fresh(["A", "B"]) == ["A", "B"]  # nothing acted on yet
    repeats.remember(["A"])
    assert repeats.fresh(["A", "B"]) == ["B"]  # B was not acted on: still fresh
    now[0] = 3.0
    assert repeats.fresh(["A"]) == []  # seen again: the wait restarts
    now[0] = 6.5
    assert repeats.fresh(["A"]) == []
    now[0] = 11.0  # out of sight for more than 4 s
    assert repeats.fresh(["A"]) == ["A"]


def test_a_camera_that_cannot_open_is_reported_not_raised(tmp_path: Path):
    errors: list[BaseException] = []
    scanner = LiveScanner(
        lambda: open_source(f"file:{tmp_path / 'missing.png'}"),
        DecoderChain().decode,
        lambda texts: True,
        on_error=errors.append,
    )
    scanner.start()
    try:
        assert wait_until(lambda: bool(errors))
    finally:
        scanner.stop()
    assert "missing.png" in str(errors[0]) and scanner.error is errors[0]


def test_one_bad_frame_does_not_end_scanning():
    camera = NumberedCamera()
    handled = threading.Event()

    calls = [0]

    def flaky_decode(frame: np.ndarray) -> list[str]:
        calls[0] += 1
        if calls[0] <= 3:
            raise ValueError("driver glitch")
        return ["TP1:X"]

    scanner = LiveScanner(lambda: camera, flaky_decode, lambda texts: handled.set() or True, max_fps=200)
    scanner.start()
    try:
        assert handled.wait(5)
    finally:
        scanner.stop()
    assert scanner.error is None and scanner.stats.decode_errors == 3
