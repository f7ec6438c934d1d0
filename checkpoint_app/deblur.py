"""Undoing motion blur: a pass moved (or the phone shook) while the shutter was open.

A straight smear of L pixels at angle a is a convolution with a line of length L (the point
spread function). Both are estimated from the frame itself, then undone with a Wiener filter:

- the direction: the smear removes gradient energy along the motion and keeps it across, so the
  structure tensor's weakest axis is the motion (a frame with no preferred axis was not smeared
  in one direction, and is left alone: that is the cheap exit of a frame without a code);
- the length: the derivative along the motion of a box-smeared image is the difference of two
  copies of the sharp image L pixels apart, so its autocorrelation along the motion has its
  deepest trough at lag L;
- the inverse: Wiener deconvolution H* / (|H|^2 + k) with a fixed noise-to-signal ratio k.

Everything runs on the frame halved (2x2 average): a 640x360 transform costs a few ms, halving
also halves the smear, and zxing-cpp still reads codes of 3 px per module.
Measured in bench/scan.py (the README has the table; docs/checkpoint.md the reasoning).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Ratio of weak-axis to strong-axis gradient energy: an isotropic frame (blurred evenly by focus,
# or an ordinary scene) is near 1, a smear well below. Measured at half scale on the bench's frames:
# empty scenes 0.86-0.99, focus blur 0.95-0.98, motion-smeared codes 0.21-0.73; sharp but tilted
# or creased codes 0.64-0.98, so some pass the check: they cost one wasted deconvolution (~5 ms),
# and only after every other stage has failed on them.
MAX_ISOTROPY = 0.8
SHORTEST, LONGEST = 2.0, 14.0  # smear lengths tried, in half-scale pixels (4-28 px in the frame)
NOISE_TO_SIGNAL = 0.01


@dataclass(frozen=True)
class Motion:
    """A straight smear: `length` pixels along `angle` radians (image axes, y down)."""

    length: float
    angle: float
    isotropy: float


def estimate_motion(grey: np.ndarray) -> Motion | None:
    """The smear in a (halved) grey frame, or None when the frame shows no one direction of it."""
    image = grey.astype(np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    xx, xy, yy = float(np.vdot(gx, gx)), float(np.vdot(gx, gy)), float(np.vdot(gy, gy))
    half_trace, gap = (xx + yy) / 2, np.hypot((xx - yy) / 2, xy)
    strong, weak = half_trace + gap, half_trace - gap
    if strong <= 0:
        return None
    isotropy = weak / strong
    if isotropy > MAX_ISOTROPY:
        return None
    angle = 0.5 * np.arctan2(2 * xy, xx - yy) + np.pi / 2  # strong axis turned a right angle
    along = cv2.addWeighted(gx, float(np.cos(angle)), gy, float(np.sin(angle)), 0)
    spectrum = cv2.dft(along)
    power = cv2.mulSpectrums(spectrum, spectrum, 0, conjB=True)
    autocorrelation = cv2.idft(power, flags=cv2.DFT_REAL_OUTPUT)
    h, w = autocorrelation.shape
    lags = np.arange(SHORTEST, LONGEST + 0.25, 0.5)
    xs = np.rint(lags * np.cos(angle)).astype(int) % w
    ys = np.rint(lags * np.sin(angle)).astype(int) % h
    trough = int(np.argmin(autocorrelation[ys, xs]))
    return Motion(float(lags[trough]), float(angle), float(isotropy))


def line_psf(length: float, angle: float) -> np.ndarray:
    """The point spread function of a straight smear: a line of `length` px, unit sum, centred."""
    size = int(np.ceil(length)) | 1
    centre = (size - 1) / 2
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * size)
    x, y = centre + t * np.cos(angle), centre + t * np.sin(angle)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    psf = np.zeros((size + 1, size + 1), np.float32)
    # Bilinear splat: a line between pixel centres spreads over its neighbours.
    np.add.at(psf, (y0, x0), (1 - fx) * (1 - fy))
    np.add.at(psf, (y0, x0 + 1), fx * (1 - fy))
    np.add.at(psf, (y0 + 1, x0), (1 - fx) * fy)
    np.add.at(psf, (y0 + 1, x0 + 1), fx * fy)
    psf = psf[:size, :size]
    return psf / psf.sum()


def _real_filter_ccs(transfer: np.ndarray) -> np.ndarray:
    """A real-valued filter in OpenCV's packed (CCS) spectrum layout, applicable by a plain
    element-wise product: each imaginary slot gets the value of its real partner."""
    h, w = transfer.shape
    out = transfer.copy()
    last = w - 1 if w % 2 == 0 else w  # with an even width the last column is packed like the first
    out[:, 2:last:2] = out[:, 1 : last - 1 : 2]
    for column in (0, w - 1) if w % 2 == 0 else (0,):
        rows_end = h - 1 if h % 2 == 0 else h
        out[2:rows_end:2, column] = out[1 : rows_end - 1 : 2, column]
    return out


def undo_motion(grey: np.ndarray, motion: Motion, noise_to_signal: float = NOISE_TO_SIGNAL) -> np.ndarray:
    """Wiener deconvolution of `grey` by the smear (circular: the frame edges ring a little).

    The line is centred on the origin, so its transfer function H is real and the Wiener filter
    H / (H^2 + k) is too: one real DFT of the frame, an element-wise product, one inverse (the
    packed real transforms are ~5x faster than complex ones here)."""
    h, w = grey.shape
    psf = line_psf(motion.length, motion.angle)
    ph, pw = psf.shape
    padded = np.zeros((h, w), np.float32)
    padded[:ph, :pw] = psf
    padded = np.roll(padded, (-(ph // 2), -(pw // 2)), axis=(0, 1))  # centre at the origin
    transfer = _real_filter_ccs(cv2.dft(padded))
    wiener = transfer / (transfer * transfer + noise_to_signal)
    spectrum = cv2.dft(grey.astype(np.float32))
    restored = cv2.idft(spectrum * wiener, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    return np.clip(restored, 0, 255).astype(np.uint8)


def deblurred_half(grey: np.ndarray) -> np.ndarray | None:
    """The frame halved and un-smeared, or None when it shows no straight smear to undo."""
    half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    motion = estimate_motion(half)
    if motion is None:
        return None
    return undo_motion(half, motion)
