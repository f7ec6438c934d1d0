"""Read the national ID number from a camera frame of the ID card, offline, on the device (Tesseract).

For the ID-card screens: the officer points the camera at the card, and the number fills the field.
What the OCR reads is a guess; the national-ID checksum decides whether it is *trusted*
(crypto.identity, the rule every other ID check uses). A trusted read fills the field for the officer to
compare with the card and send; an untrusted one fills it too, marked for correction, and the screen
will not send it unchanged (checkpoint_app/ui/id_photo.py). Nothing here leaves the device: the frame and
the text stay in memory, are not written, logged or sent.

Tesseract is Debian's `tesseract-ocr` (scripts/bootstrap installs it), called as a program: no Python
binding to build, and a device without it (an Android build, a PC without the package) only loses the
photo reading, which `available()` tells the screen. `CHECKPASS_TESSERACT` names another binary, or ""
to turn the reading off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from checkpoint_app.frames import FrameSource
from crypto.identity import is_valid_national_id

TESSERACT_ENV = "CHECKPASS_TESSERACT"
TIMEOUT_S = 8.0  # one Tesseract run on a phone-sized frame takes well under a second on a PC
# The ID has one letter and nine digits, printed in one run: read as one line of these characters only.
WHITELIST_OPTION = "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Where OCR confuses a digit and a letter, the position says which one it must be.
_AS_DIGIT = str.maketrans(
    {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}
)
_AS_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"})
FRAMES_TO_TRY = 5
TEXT_HEIGHT_PX = 48  # the number's glyphs are scaled to about this height, where Tesseract reads best


class PhotoReadingUnavailable(RuntimeError):
    """No Tesseract on this device: the ID number must be typed."""


@dataclass(frozen=True)
class IdRead:
    """What the photo gave. `text` is None when nothing of the shape of an ID was seen."""

    text: str | None
    trusted: bool  # the checksum holds and every way of looking at the frame agreed

    @property
    def found(self) -> bool:
        return self.text is not None


def tesseract_path() -> str | None:
    configured = os.environ.get(TESSERACT_ENV)
    if configured is not None:
        return shutil.which(configured) if configured.strip() else None
    return shutil.which("tesseract")


def available() -> bool:
    return tesseract_path() is not None


def read_national_id(frame: np.ndarray) -> IdRead:
    """The ID number on the card in `frame` (BGR or grey), read offline. Raises PhotoReadingUnavailable
    without Tesseract.

    The frame is looked at in several ways (`_views`), cheapest first, and each way is one more chance
    for a misread to pass the checksum by luck (one misread in ten does). So a read is trusted only when
    it passes the checksum and nothing else was read before it, or when two views read it; and once two
    views agree on a read that fails the checksum, the number is plainly legible and plainly wrong (a
    misprinted or forged card, or a misread of a confusable glyph): it is returned untrusted at once,
    without more chances to be "corrected" by luck. Otherwise the most frequent read, untrusted."""
    binary = tesseract_path()
    if binary is None:
        raise PhotoReadingUnavailable("no tesseract")
    seen: Counter[str] = Counter()
    for view in _views(frame):
        for candidate in candidates(_ocr(binary, view)):
            seen[candidate] += 1
            if is_valid_national_id(candidate, allow_old_resident=True):
                if len(seen) == 1 or seen[candidate] >= 2:
                    return IdRead(candidate, trusted=True)
            elif seen[candidate] >= 2:
                return IdRead(candidate, trusted=False)
    if not seen:
        return IdRead(None, trusted=False)
    return IdRead(seen.most_common(1)[0][0], trusted=False)


def candidates(text: str) -> list[str]:
    """The words of `text` that read as an ID (letter + 9 digits), with the usual OCR confusions put
    right by position; two neighbouring words are joined when together they make ten characters (a gap
    read after the letter). Never a ten-character window of a longer word: each window would be one
    more chance for a misread to pass the checksum by luck (one in ten)."""
    found: list[str] = []
    for line in text.upper().splitlines():
        words = [re.sub(r"[^A-Z0-9]", "", word) for word in line.split()]
        words = [word for word in words if word]
        joined = [a + b for a, b in zip(words, words[1:], strict=False)]
        for word in words + joined:
            if len(word) != 10:
                continue
            fixed = word[0].translate(_AS_LETTER) + word[1:].translate(_AS_DIGIT)
            if fixed[0].isalpha() and fixed[1:].isdigit() and fixed not in found:
                found.append(fixed)
    return found


def _views(frame: np.ndarray) -> Iterator[np.ndarray]:
    """Ways of looking at the frame, cheapest and likeliest first: the text lines found in it, deskewed
    and binarised; then the whole frame, binarised; then turned a few degrees either way."""
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    # Even out the light (a dim roadside, a shadow across the card) before thresholding.
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)
    for line in _text_lines(gray):
        yield _binarise(line)
    yield _binarise(gray)
    for angle in (-4.0, 4.0):
        yield _binarise(_rotate(gray, angle))


def _binarise(gray: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    _, binary = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary


def _rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _text_lines(gray: np.ndarray) -> list[np.ndarray]:
    """Crops of the frame around runs of dark strokes that are shaped like the ID number: a line about
    ten glyphs long. Each is cut out level (its own rotation undone) and scaled so that its glyphs are
    TEXT_HEIGHT_PX high. Widest first; at most four."""
    # Dark strokes on a light card: a black-hat transform keeps what is darker than its surroundings,
    # and a wide closing joins the glyphs of one line into one blob.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))
    strokes = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    _, mask = cv2.threshold(strokes, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (21, 5)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    lines = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle - 90
        angle = (angle + 90) % 180 - 90  # OpenCV's angle convention differs between versions
        # The number alone is about 6:1; joined with its label 統一編號 about 11:1.
        if h < 10 or not 4.0 <= w / h <= 16.0 or abs(angle) > 15:
            continue
        lines.append(((cx, cy), (w, h), angle))
    lines.sort(key=lambda r: -r[1][0])
    crops = []
    for (cx, cy), (w, h), angle in lines[:4]:
        scale = TEXT_HEIGHT_PX / h
        matrix = cv2.getRotationMatrix2D((cx, cy), angle, scale)
        pad_w, pad_h = w * scale + 2 * TEXT_HEIGHT_PX, h * scale + TEXT_HEIGHT_PX
        matrix[0, 2] += pad_w / 2 - cx
        matrix[1, 2] += pad_h / 2 - cy
        crops.append(
            cv2.warpAffine(
                gray, matrix, (int(pad_w), int(pad_h)), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
            )
        )
    return crops


def _ocr(binary: str, image: np.ndarray) -> str:
    ok, png = cv2.imencode(".png", image)
    if not ok:
        return ""
    # --psm 11: sparse text, the lines anywhere on the card; a whole frame holds more than one line.
    psm = "7" if image.shape[0] <= 3 * TEXT_HEIGHT_PX else "11"
    try:
        done = subprocess.run(
            [binary, "stdin", "stdout", "--psm", psm, "-l", "eng", "-c", WHITELIST_OPTION],
            input=png.tobytes(),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
            # One thread: Tesseract's OpenMP threads cost more than they give on small images, and the
            # device is running the camera and the UI too (three times faster measured on 2 cores).
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


def sharpest_frame(source: FrameSource, frames: int = FRAMES_TO_TRY) -> np.ndarray | None:
    """The sharpest of the next few frames of the camera (a hand steadies within a few frames; the
    variance of the Laplacian is the usual measure of focus). None if the source gave none."""
    best, best_focus = None, -1.0
    for _ in range(frames):
        frame = source.read()
        if frame is None:
            break
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        focus = float(cv2.Laplacian(gray, cv2.CV_64F).var())
        if focus > best_focus:
            best, best_focus = frame, focus
    return best


def read_from_camera(open_camera: Callable[[], FrameSource]) -> IdRead:
    """Open the camera, take its sharpest frame, close it, and read the ID number in it. Raises
    PhotoReadingUnavailable without Tesseract (before the camera is opened), FrameSourceError without a
    camera."""
    if not available():
        raise PhotoReadingUnavailable("no tesseract")
    source = open_camera()
    try:
        frame = sharpest_frame(source)
    finally:
        source.close()
    return read_national_id(frame) if frame is not None else IdRead(None, trusted=False)
