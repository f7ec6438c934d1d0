"""Frame sources: the camera, and image/video files standing in for it (tests, demos, no-camera PCs).

Every source hands out BGR uint8 frames (OpenCV's layout) from `read()`, or None when it has no
frame (end of file without looping, a camera that stopped).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mjpeg", ".mjpg"}


class FrameSourceError(OSError):
    """A source that cannot be opened (no camera, missing or unreadable file)."""


class FrameSource(Protocol):
    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class _Iterable:
    def read(self) -> np.ndarray | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self) -> _Iterable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OpenCVCamera(_Iterable):
    def __init__(self, index: int = 0, width: int = 1280, height: int = 720) -> None:
        self.index = index
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise FrameSourceError(f"camera {index} cannot be opened")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        # A one-frame buffer: the scanner wants the newest frame, not a queue of old ones.
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        self._cap.release()


class FileSource(_Iterable):
    """An image, a folder of images (name order) or a video, optionally looping, optionally paced.

    `fps` paces `read()` like a camera would (useful for a demo); None hands frames out as fast as
    they are asked for (tests, benchmarks).

    `hold_s` makes a folder *play* like a camera in front of a queue of passes: each image is what
    the camera sees for `hold_s` seconds of `clock`, counted from `epoch`, then the next one, in
    name order (looping). The position follows the clock, not the reads, so a screen that closes
    and reopens the camera (every scan does) sees the next image in turn, not the first again.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        loop: bool = False,
        fps: float | None = None,
        hold_s: float | None = None,
        epoch: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.loop = loop
        if hold_s is not None and not hold_s > 0:
            raise ValueError("hold_s must be positive")
        self._hold_s = hold_s
        self._clock = clock
        self._epoch = clock() if epoch is None else epoch
        self._interval = 1.0 / fps if fps else 0.0
        self._next_at = 0.0
        self._images: list[np.ndarray] | None = None
        self._index = 0
        self._video: cv2.VideoCapture | None = None
        if not self.path.exists():
            raise FrameSourceError(f"no such file or folder: {self.path}")
        if self.path.is_dir():
            files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise FrameSourceError(f"no images in {self.path}")
            self._images = [self._load_image(p) for p in files]
        elif self.path.suffix.lower() in IMAGE_SUFFIXES:
            self._images = [self._load_image(self.path)]
        else:
            self._video = cv2.VideoCapture(str(self.path))
            if not self._video.isOpened():
                raise FrameSourceError(f"cannot read {self.path} as an image or a video")

    @staticmethod
    def _load_image(path: Path) -> np.ndarray:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise FrameSourceError(f"cannot read image {path}")
        return image

    def _pace(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        if now < self._next_at:
            time.sleep(self._next_at - now)
        self._next_at = max(now, self._next_at) + self._interval

    def read(self) -> np.ndarray | None:
        self._pace()
        if self._images is not None and self._hold_s is not None:
            shown = int((self._clock() - self._epoch) // self._hold_s)
            if shown >= len(self._images) and not self.loop:
                return None
            return self._images[shown % len(self._images)].copy()
        if self._images is not None:
            if self._index >= len(self._images):
                if not self.loop:
                    return None
                self._index = 0
            frame = self._images[self._index]
            self._index += 1
            return frame.copy()  # callers may draw on it
        assert self._video is not None
        ok, frame = self._video.read()
        if not ok and self.loop:
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._video.read()
        return frame if ok else None

    def close(self) -> None:
        if self._video is not None:
            self._video.release()


def open_source(
    spec: str,
    *,
    loop: bool = True,
    fps: float | None = None,
    hold_s: float | None = None,
    epoch: float | None = None,
) -> OpenCVCamera | FileSource:
    """`"0"` (camera index) or `"file:PATH"` (image, folder of images, video) -> a frame source."""
    spec = spec.strip()
    if spec.isdigit():
        return OpenCVCamera(int(spec))
    if spec.startswith("file:") and len(spec) > len("file:"):
        return FileSource(spec[len("file:") :], loop=loop, fps=fps, hold_s=hold_s, epoch=epoch)
    raise ValueError(f"camera must be an index like 0 or file:PATH, not {spec!r}")
