"""QR decoding of camera frames: a chain of decoders, the fast and strong one first.

First chosen from measurements (bench/scan.py: 96 generated 1280x720 hard frames, 8 conditions;
2-core x86-64 VM shared with other jobs, 2026-11-25):

    decoder                  found   ms/frame (hard set)   ms/frame (no QR)
    zxing-cpp                87/96        2.2                   2.3
    pyzbar, full frame       71/96       26.3                  25.5
    pyzbar, half scale       67/96        5.4                   5.4
    OpenCV QRCodeDetector    74/96       46.7                  92.7
    zxing-cpp -> pyzbar 1/2  88/96        2.7                   7.6

zxing-cpp reads tilted/perspective and phone-screen codes that zbar misses and is ~10x faster;
zbar on a half-scale frame still read some creased printouts zxing missed. OpenCV's detector
added nothing over that pair at 10-20x the cost.

Issue 10 spends the rest of the frame budget on frames where zxing-cpp finds nothing (its table,
with the night and bloom conditions, is in the README; docs/checkpoint.md): a second zxing-cpp
pass with one global threshold (a blooming screen, a shaded crease) and one on a halved,
unsharp-masked frame (blur). Both cost ~1 ms; a full-size unsharp mask read the same frames at
~15x the cost, and zxing-cpp on the plain halved frame read nothing more, so neither is used.
zbar at half scale, the old second stage, read nothing these three miss and took most of the
time of a frame without a code, so the chain is zxing-cpp only; ZbarDecoder stays for the bench.

Item 5 of issue 10 found, frame by frame, why the three stages still missed 8 of the 96 and added
one stage per cause, each reading frames no other stage reads (88/96 -> 94/96 on the fixed set;
+3 to +4 on sets drawn with other seeds): gamma 6 on the highlights (glare), a 5x5 grey opening
(the bright ridge of a fold), 3/4 scale (a steep perspective) and a Wiener deconvolution of the
smear estimated from the frame (motion blur; checkpoint_app/deblur.py). A frame without a code
pays every stage: 9-11 ms CPU, 13-16 ms when it is smeared in one direction (the deblur runs in full).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
import zxingcpp

from checkpoint_app.deblur import deblurred_half

try:  # pyzbar needs the libzbar0 system library; without it the chain runs on zxing-cpp alone
    from pyzbar import pyzbar
    from pyzbar.pyzbar import ZBarSymbol
except (ImportError, OSError):  # pragma: no cover - depends on the system
    pyzbar = None
    ZBarSymbol = None

ZBAR_AVAILABLE = pyzbar is not None
_OPEN_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5))
_HIGHLIGHTS_LUT = np.array([round(255 * (i / 255) ** 6) for i in range(256)], np.uint8)


def to_grey(frame: np.ndarray) -> np.ndarray:
    """BGR/BGRA/grey uint8 -> contiguous grey (both decoders want one 8-bit channel)."""
    if frame.ndim == 2:
        grey = frame
    elif frame.shape[2] == 4:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    else:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if grey.dtype != np.uint8:
        raise ValueError("frames must be 8-bit")
    return np.ascontiguousarray(grey)


def _text(data: bytes) -> str:
    # Passes are Base45 (ASCII); a foreign QR may be anything, and must still become a string
    # so it can be refused as "not ours" instead of crashing the scan loop.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class Decoder(Protocol):
    name: str

    def decode(self, grey: np.ndarray) -> list[str]: ...


class ZxingDecoder:
    """zxing-cpp, optionally on a prepared frame: `prepare` names one of PREPARATIONS and
    `binarizer` one of zxing-cpp's ("local" is its default, "histogram" one global threshold)."""

    PREPARATIONS = ("none", "sharpen", "half", "three_quarter", "open", "highlights", "deblur")
    # These preparations assume dark modules on a light ground (a bright ridge, glare, a smear of
    # a printed code), so they skip zxing-cpp's second, inverted reading (~0.2 ms a frame each);
    # an inverted code is read by the first stage, which keeps it.
    ONE_POLARITY = ("open", "highlights", "deblur")

    def __init__(self, prepare: str = "none", binarizer: str = "local") -> None:
        if prepare not in self.PREPARATIONS:
            raise ValueError(f"prepare must be one of {self.PREPARATIONS}")
        binarizers = {
            "local": zxingcpp.Binarizer.LocalAverage,
            "histogram": zxingcpp.Binarizer.GlobalHistogram,
        }
        if binarizer not in binarizers:
            raise ValueError(f"binarizer must be one of {sorted(binarizers)}")
        self.prepare = prepare
        self._binarizer = binarizers[binarizer]
        self._try_invert = prepare not in self.ONE_POLARITY
        parts = (
            ["zxing-cpp"]
            + ([prepare] if prepare != "none" else [])
            + ([binarizer] if binarizer != "local" else [])
        )
        self.name = "/".join(parts)

    def _prepared(self, grey: np.ndarray) -> np.ndarray | None:
        if self.prepare == "sharpen":
            # Unsharp mask on the halved frame: steepens the module edges a shaking hand or a
            # focus miss smeared. Halving first makes it ~15x cheaper and read as many frames.
            half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            soft = cv2.GaussianBlur(half, (0, 0), 1.5)
            return cv2.addWeighted(half, 2.0, soft, -1.0, 0)
        if self.prepare == "half":
            # Averaging 2x2 pixels halves the grain of a dark, noisy frame.
            return cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        if self.prepare == "three_quarter":
            # zxing-cpp's own downscaling halves; some steep perspectives read only at a scale in
            # between (measured in bench/scan.py, not derived).
            return cv2.resize(grey, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
        if self.prepare == "open":
            # Grey opening (min then max over 5x5): bright lines thinner than 5 px, the ridge of a
            # fold or a scratch, vanish; light modules (6 px and more) keep their size.
            return cv2.morphologyEx(grey, cv2.MORPH_OPEN, _OPEN_KERNEL)
        if self.prepare == "highlights":
            # Gamma 6 spreads the top of the range: under glare the dark modules are still a few
            # levels below the white ones, less than the local binarizer needs to see an edge
            # (zxing's hybrid binarizer takes < 24 levels as flat); stretched, they pass it.
            return cv2.LUT(grey, _HIGHLIGHTS_LUT)
        if self.prepare == "deblur":
            return deblurred_half(grey)  # None: no straight smear to undo, nothing to read
        return grey

    def decode(self, grey: np.ndarray) -> list[str]:
        prepared = self._prepared(grey)
        if prepared is None:
            return []
        results = zxingcpp.read_barcodes(
            prepared,
            formats=zxingcpp.BarcodeFormat.QRCode,
            binarizer=self._binarizer,
            try_invert=self._try_invert,
        )
        return [r.text for r in results if r.valid and r.text]


class ZbarDecoder:
    def __init__(self, scale: float = 1.0) -> None:
        if pyzbar is None:
            raise RuntimeError("pyzbar/libzbar is not installed")
        if not 0 < scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        self.scale = scale
        self.name = "pyzbar" if scale == 1 else f"pyzbar@{scale:g}"

    def decode(self, grey: np.ndarray) -> list[str]:
        if self.scale != 1:
            h, w = grey.shape
            grey = cv2.resize(grey, (int(w * self.scale), int(h * self.scale)), interpolation=cv2.INTER_AREA)
        return [_text(s.data) for s in pyzbar.decode(grey, symbols=[ZBarSymbol.QRCODE])]


class OpenCVDecoder:
    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()

    def decode(self, grey: np.ndarray) -> list[str]:
        try:
            text, _points, _ = self._detector.detectAndDecode(grey)
        except cv2.error:  # its k-means step asserts on some frames with no code
            return []
        return [text] if text else []


def default_decoders() -> list[Decoder]:
    """The chain bench/scan.py chose (its table is in the README): each stage after the first runs
    only on frames the ones before found nothing in, so hits cost what the first stage costs.
    zbar (half scale) is no longer a stage: on the fixed hard set it read no frame the zxing-cpp
    stages missed, and it was most of the miss path's time. The last four stages (issue 10, item 5)
    each read frames every stage before them misses, cheapest first; the deblur stage is last
    because it is the dearest when it runs (it skips a frame with no straight smear in ~1 ms)."""
    return [
        ZxingDecoder(),
        ZxingDecoder(binarizer="histogram"),
        ZxingDecoder(prepare="sharpen"),
        ZxingDecoder(prepare="highlights"),
        ZxingDecoder(prepare="open"),
        ZxingDecoder(prepare="three_quarter"),
        ZxingDecoder(prepare="deblur"),
    ]


def previous_decoders() -> list[Decoder]:
    """The chain before issue 10's item 5 (three stages), kept so bench/scan.py measures the new
    one against it in the same run."""
    return default_decoders()[:3]


class DecoderChain:
    """Try each decoder in turn; the first that reads anything wins (no work wasted on hits)."""

    def __init__(self, decoders: Sequence[Decoder] | None = None) -> None:
        self.decoders: list[Decoder] = list(decoders) if decoders is not None else default_decoders()
        if not self.decoders:
            raise ValueError("a decoder chain needs at least one decoder")
        self.name = " -> ".join(d.name for d in self.decoders)

    def decode(self, frame: np.ndarray) -> list[str]:
        grey = to_grey(frame)
        for decoder in self.decoders:
            texts = decoder.decode(grey)
            if texts:
                # Keep order, drop repeats (two decoders never both run on a hit, but one decoder
                # can report the same code twice when it is mirrored in a screen).
                return list(dict.fromkeys(texts))
        return []
