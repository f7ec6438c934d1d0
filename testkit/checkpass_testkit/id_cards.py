"""Synthetic camera frames of a Taiwan national ID card (國民身分證, front), for the photo reading of the
ID-card check (checkpoint_app/id_card_ocr.py): its tests and its measured read rate.

The card is drawn with PIL in Noto Sans CJK (Debian's fonts-noto-cjk, which scripts/bootstrap installs):
a pale patterned ground, the title, name, birth date and a photo box, and the 統一編號 at the bottom right,
as on the real card. It is then photographed: laid on a cluttered scene, slightly off square, under one
condition (clean, blurred, rotated a few degrees, dim). Every person on these cards is made up.
Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from checkpass_testkit.synthetic import FRAME_H, FRAME_W, background

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
CARD_W, CARD_H = 856, 540  # 85.6 x 54 mm (ID-1) at 10 px/mm
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾"
GIVEN = "志明淑芬家豪雅婷俊傑美玲建宏怡君宗翰佳穎冠宇"


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    return ImageFont.truetype(str(FONT_DIR / name), size, index=0)  # index 0: the JP face has all CJK


def with_check_digit(stem: str) -> str:
    """The 9-character stem (letter + 8 digits) completed with the digit that makes it valid, as the
    product's own rule decides (crypto.identity): the test equipment holds no second checksum."""
    from crypto.identity import is_valid_national_id

    for digit in "0123456789":
        if is_valid_national_id(stem + digit):
            return stem + digit
    raise ValueError(f"no check digit completes {stem!r}")


def valid_national_id(rng: np.random.Generator) -> str:
    letter = LETTERS[int(rng.integers(len(LETTERS)))]
    sex = "12"[int(rng.integers(2))]
    return with_check_digit(letter + sex + "".join(str(int(d)) for d in rng.integers(0, 10, 7)))


def wrong_checksum_national_id(rng: np.random.Generator) -> str:
    """A number of the right shape whose check digit is wrong (a forged or misprinted card)."""
    good = valid_national_id(rng)
    bad = (int(good[-1]) + int(rng.integers(1, 10))) % 10
    return good[:-1] + str(bad)


def card_image(national_id: str, rng: np.random.Generator) -> np.ndarray:
    """The card's front as a BGR image, CARD_W x CARD_H."""
    ground = np.zeros((CARD_H, CARD_W, 3), np.float32)
    yy, xx = np.mgrid[0:CARD_H, 0:CARD_W].astype(np.float32)
    # A pale blue-green ground with fine guilloche waves, as on the printed card.
    wave = 0.5 + 0.5 * np.sin(xx / 9.0 + 6 * np.sin(yy / 40.0))
    ground[...] = (226, 236, 222)
    ground += wave[..., None] * np.float32((-14, -8, -14))
    img = Image.fromarray(np.clip(ground, 0, 255).astype(np.uint8)[..., ::-1])
    draw = ImageDraw.Draw(img)
    ink = (40, 40, 48)
    draw.text((170, 24), "中華民國國民身分證", font=_font(46, bold=True), fill=(70, 40, 110))
    name = SURNAMES[int(rng.integers(len(SURNAMES)))] + "".join(
        GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), 2)
    )
    year, month, day = (int(rng.integers(40, 95)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    label = _font(24)
    draw.text((40, 120), "姓名", font=label, fill=ink)
    draw.text((120, 108), name, font=_font(46), fill=ink)
    draw.text((40, 200), "出生", font=label, fill=ink)
    draw.text((120, 196), f"民國{year}年{month}月{day}日", font=_font(30), fill=ink)
    draw.text((40, 260), "性別", font=label, fill=ink)
    draw.text((120, 256), "男" if national_id[1] in "1A" else "女", font=_font(30), fill=ink)
    draw.text((40, 320), "發證日期", font=label, fill=ink)
    draw.text((160, 316), f"民國{year + 20}年{month}月{day}日", font=_font(26), fill=ink)
    draw.rounded_rectangle((600, 110, 816, 380), radius=8, fill=(200, 205, 210))  # the photo
    draw.ellipse((655, 150, 760, 270), fill=(150, 150, 160))
    draw.rectangle((630, 280, 786, 380), fill=(150, 150, 160))
    draw.text((420, 446), "統一編號", font=label, fill=ink)
    draw.text((530, 432), national_id, font=_font(40, bold=True), fill=(20, 20, 30))
    return np.asarray(img)[..., ::-1].copy()


def _place(card: np.ndarray, rng: np.random.Generator, angle_deg: float, scale: float) -> np.ndarray:
    frame = background(rng)
    h, w = card.shape[:2]
    cx = FRAME_W / 2 + rng.uniform(-80, 80)
    cy = FRAME_H / 2 + rng.uniform(-30, 30)
    half = np.float32([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) * scale
    half += rng.uniform(-0.015, 0.015, size=(4, 2)).astype(np.float32) * np.float32([w, h])  # off square
    a = np.deg2rad(angle_deg)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = half @ rot.T + np.float32([cx, cy])
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(card, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (FRAME_W, FRAME_H))
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    out = frame.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
    return np.clip(out + rng.normal(0, 3, size=out.shape), 0, 255).astype(np.uint8)


# -- conditions: (card, rng) -> BGR 1280x720 frame -------------------------------------------------
def good(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _place(card, rng, rng.uniform(-1, 1), rng.uniform(0.95, 1.25))


def blurred(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Out of focus or a hand moving: as far as a person could still read the number."""
    frame = _place(card, rng, rng.uniform(-1, 1), rng.uniform(0.95, 1.25))
    if rng.random() < 0.5:
        return cv2.GaussianBlur(frame, (0, 0), rng.uniform(1.0, 2.2))
    length = int(rng.integers(4, 10))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(frame, -1, kernel / max(kernel.sum(), 1e-6))


def rotated(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Held a few degrees off level, as a card handed through a car window is."""
    sign = 1 if rng.random() < 0.5 else -1
    return _place(card, rng, sign * rng.uniform(3, 8), rng.uniform(0.95, 1.2))


def dim(card: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Evening light: dark, low contrast, noisy."""
    frame = good(card, rng).astype(np.float32)
    frame = frame * rng.uniform(0.35, 0.55) + rng.normal(0, 5, size=frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


CONDITIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "good": good,
    "blurred": blurred,
    "rotated": rotated,
    "dim": dim,
}


@dataclass(frozen=True)
class CardPhoto:
    national_id: str
    checksum_ok: bool  # False: the card itself carries a wrong check digit
    condition: str
    frame: np.ndarray


def photo(national_id: str, condition: str, seed: int) -> CardPhoto:
    rng = np.random.default_rng(seed)
    frame = CONDITIONS[condition](card_image(national_id, rng), rng)
    from crypto.identity import is_valid_national_id

    return CardPhoto(national_id, is_valid_national_id(national_id), condition, frame)


def card_set(per_condition: int, seed: int, *, wrong_checksum: int = 0) -> list[CardPhoto]:
    """`per_condition` photos of valid cards under each condition, plus `wrong_checksum` good photos of
    cards with a wrong check digit. Different seeds give disjoint people: tune on one, measure on another."""
    rng = np.random.default_rng(seed)
    photos = []
    for condition in CONDITIONS:
        for _ in range(per_condition):
            photos.append(photo(valid_national_id(rng), condition, int(rng.integers(2**31))))
    for _ in range(wrong_checksum):
        photos.append(photo(wrong_checksum_national_id(rng), "good", int(rng.integers(2**31))))
    return photos
