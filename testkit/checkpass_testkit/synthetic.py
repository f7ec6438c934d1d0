"""Synthetic camera frames of a QR code under roadside conditions, for tests, benchmarks and demos.

Each condition imitates a failure seen when scanning passes in the field: motion/focus blur, a
tilted phone (perspective), sun glare on a screen or laminated card, a creased or torn printout,
a phone screen photographed (low contrast + moiré), a code far away, a dark evening frame, a
pass held out of a car window at night (dark + motion blur), a phone screen at full brightness
(bloom).
Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import qrcode
from qrcode.constants import ERROR_CORRECT_Q

FRAME_W, FRAME_H = 1280, 720


def qr_matrix(text: str, border: int = 4) -> np.ndarray:
    """Boolean module matrix (True = dark) at ECC Q, as the pass printer makes it."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def qr_image(text: str, module_px: int) -> np.ndarray:
    """Grey uint8 image of the code with a quiet zone, `module_px` pixels per module."""
    m = qr_matrix(text)
    img = np.where(m, 0, 255).astype(np.uint8)
    return cv2.resize(img, (m.shape[1] * module_px, m.shape[0] * module_px), interpolation=cv2.INTER_NEAREST)


def background(rng: np.random.Generator) -> np.ndarray:
    """A cluttered, mid-grey scene (asphalt/car interior), not a clean white page."""
    small = rng.integers(60, 180, size=(FRAME_H // 40, FRAME_W // 40, 3), dtype=np.uint8)
    bg = cv2.resize(small, (FRAME_W, FRAME_H), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 6, size=bg.shape)
    return np.clip(bg + noise, 0, 255).astype(np.uint8)


def place(code: np.ndarray, rng: np.random.Generator, *, corners: np.ndarray | None = None) -> np.ndarray:
    """Paste a grey code into a 1280x720 BGR frame, optionally warped onto `corners` (4x2 float)."""
    frame = background(rng)
    h, w = code.shape
    if corners is None:
        x0 = int(rng.integers(0, max(1, FRAME_W - w)))
        y0 = int(rng.integers(0, max(1, FRAME_H - h)))
        corners = np.float32([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]])
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, np.float32(corners))
    warped = cv2.warpPerspective(code, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(code, 255), matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    out = frame.astype(np.float32) * (1 - alpha) + cv2.cvtColor(warped, cv2.COLOR_GRAY2BGR) * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def _centred_corners(w: int, h: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    cx = FRAME_W / 2 + rng.uniform(-150, 150)
    cy = FRAME_H / 2 + rng.uniform(-60, 60)
    base = np.float32([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    shift = rng.uniform(-jitter, jitter, size=(4, 2)) * np.float32([w, h])
    return base + shift + np.float32([cx, cy])


# -- conditions: (text, severity in [0, 1], rng) -> BGR frame -------------------------------------------
def clean(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    return place(qr_image(text, 6), rng)


def blur(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    frame = place(qr_image(text, 6), rng)
    if rng.random() < 0.5:
        sigma = 0.8 + 2.6 * severity
        return cv2.GaussianBlur(frame, (0, 0), sigma)
    length = int(3 + 14 * severity)  # motion blur: a hand moving the phone
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    angle = rng.uniform(0, 180)
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(frame, -1, kernel)


def tilt(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    code = qr_image(text, 6)
    h, w = code.shape
    corners = _centred_corners(w, h, rng, 0.05 + 0.30 * severity)
    # Also rotate in-plane: an officer rarely holds the pass square.
    angle = np.deg2rad(rng.uniform(-45, 45))
    centre = corners.mean(axis=0)
    rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = (corners - centre) @ rot.T + centre
    return place(code, rng, corners=corners)


def glare(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    frame = place(qr_image(text, 6), rng).astype(np.float32)
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    cx, cy = FRAME_W / 2 + rng.uniform(-120, 120), FRAME_H / 2 + rng.uniform(-80, 80)
    radius = 60 + 140 * severity
    spot = np.exp(-(((xx - cx) / (radius * 1.6)) ** 2 + ((yy - cy) / radius) ** 2))
    frame += (150 + 160 * severity) * spot[..., None]
    return np.clip(frame, 0, 255).astype(np.uint8)


def crease(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    code = qr_image(text, 6).astype(np.float32)
    h, w = code.shape
    # A fold: a shaded band across the code plus a bright ridge line.
    for _ in range(1 + int(2 * severity)):
        x1, x2 = rng.uniform(0, w), rng.uniform(0, w)
        pts = np.array([[x1, 0], [x2, h]], np.int32)
        shade = np.zeros_like(code)
        cv2.line(shade, tuple(pts[0]), tuple(pts[1]), 1.0, thickness=int(6 + 20 * severity))
        shade = cv2.GaussianBlur(shade, (0, 0), 6)
        code = code * (1 - 0.45 * shade) + 40 * shade
        cv2.line(code, tuple(pts[0]), tuple(pts[1]), 235.0, thickness=2 + int(3 * severity))
    # Torn/smudged blobs, kept away from the finder patterns' worst case by chance only.
    for _ in range(int(1 + 5 * severity)):
        centre = (int(rng.uniform(0.2 * w, 0.8 * w)), int(rng.uniform(0.2 * h, 0.8 * h)))
        cv2.circle(code, centre, int(4 + 10 * severity), float(rng.choice([20.0, 235.0])), -1)
    return place(np.clip(code, 0, 255).astype(np.uint8), rng)


def screen(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    """A pass on a phone screen, photographed: low contrast, pixel-grid moiré, slight tilt."""
    code = qr_image(text, 6).astype(np.float32)
    lo, hi = 70 + 40 * severity, 190 - 30 * severity
    code = lo + (code / 255.0) * (hi - lo)
    h, w = code.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(2.6, 4.2)
    moire = np.sin(2 * np.pi * (xx * np.cos(0.3) + yy * np.sin(0.3)) / period)
    code = code + (10 + 25 * severity) * moire
    code = np.clip(code, 0, 255).astype(np.uint8)
    corners = _centred_corners(w, h, rng, 0.04 + 0.08 * severity)
    frame = place(code, rng, corners=corners)
    return cv2.GaussianBlur(frame, (0, 0), 0.7)


def small(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    """A code far from the camera: 2-3 px per module."""
    module = 3 if severity < 0.5 else 2
    return place(qr_image(text, module), rng)


def dark(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    frame = place(qr_image(text, 6), rng).astype(np.float32)
    frame = frame * (0.35 - 0.22 * severity) + rng.normal(0, 4 + 6 * severity, size=frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def motion_kernel(length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return kernel / max(float(kernel.sum()), 1e-6)


def night(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    """A pass held out of a car window at night: dim, grainy, smeared by the hand's motion."""
    frame = place(qr_image(text, 6), rng)
    frame = cv2.filter2D(frame, -1, motion_kernel(int(4 + 9 * severity), rng.uniform(-30, 30)))
    frame = frame.astype(np.float32) * (0.45 - 0.2 * severity)
    frame += rng.normal(0, 3 + 5 * severity, size=frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def bloom(text: str, severity: float, rng: np.random.Generator) -> np.ndarray:
    """A phone screen at full brightness: the lit pixels overexpose and bleed into the dark
    modules (halation), so black modules shrink and greys wash out."""
    code = qr_image(text, 6).astype(np.float32)
    lit = cv2.GaussianBlur(code, (0, 0), 1.2 + 1.6 * severity)
    code = np.maximum(code, lit * (1.1 + 0.6 * severity))  # bright spreads, dark does not
    code = 60 + (code / 255.0) * 195  # a screen's black is not black in a photo
    h, w = code.shape
    corners = _centred_corners(w, h, rng, 0.03 + 0.06 * severity)
    frame = place(np.clip(code, 0, 255).astype(np.uint8), rng, corners=corners).astype(np.float32)
    frame = frame * (1.25 + 0.35 * severity)  # auto-exposure set for the street, not the screen
    return np.clip(frame, 0, 255).astype(np.uint8)


CONDITIONS: dict[str, Callable[[str, float, np.random.Generator], np.ndarray]] = {
    "clean": clean,
    "blur": blur,
    "tilt": tilt,
    "glare": glare,
    "crease": crease,
    "screen": screen,
    "small": small,
    "dark": dark,
    "night": night,
    "bloom": bloom,
}


@dataclass(frozen=True)
class HardImage:
    condition: str
    severity: float
    text: str
    frame: np.ndarray


def hard_set(texts: list[str], per_condition: int = 12, seed: int = 7) -> list[HardImage]:
    """`per_condition` frames for each condition, severities spread over [0, 1]."""
    rng = np.random.default_rng(seed)
    images = []
    for name, make in CONDITIONS.items():
        for i in range(per_condition):
            severity = i / max(1, per_condition - 1)
            text = texts[i % len(texts)]
            images.append(HardImage(name, severity, text, make(text, severity, rng)))
    return images


def damage_qr_png(png: bytes, fraction: float, seed: int = 1) -> np.ndarray:
    """Blot out about `fraction` of a pass PNG's area in the middle (beyond ECC Q at ~0.3+)."""
    rng = np.random.default_rng(seed)
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    h, w = img.shape
    side = int(np.sqrt(fraction) * min(h, w))
    x0 = int(rng.uniform(0.25 * w, 0.75 * w - side)) if side < w / 2 else (w - side) // 2
    y0 = int(rng.uniform(0.25 * h, 0.75 * h - side)) if side < h / 2 else (h - side) // 2
    img[y0 : y0 + side, x0 : x0 + side] = 0
    return img
