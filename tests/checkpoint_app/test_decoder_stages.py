"""The decoder chain's later stages (issue 10, item 5) and the motion deblur under one of them.

Each new stage is there because it reads frames every other stage misses (bench/scan.py measures
how many on the hard set); the frames below are such frames, so removing a stage from the chain
fails its case here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from checkpass_testkit.synthetic import CONDITIONS, background, motion_kernel, place, qr_image
from checkpoint_app.deblur import Motion, deblurred_half, estimate_motion, line_psf, undo_motion
from checkpoint_app.decoder import DecoderChain, ZxingDecoder, default_decoders, previous_decoders, to_grey
from tests.checkpoint_app.cpworld import needs_zbar

LONG_TEXT = "TP1:" + "0123456789ABCDEFGHIJ" * 12


@pytest.mark.parametrize(
    ("prepare", "condition", "severity", "seed"),
    [
        ("highlights", "glare", 0.7, 12),
        ("open", "crease", 0.8, 4),
        ("three_quarter", "tilt", 0.9, 2),
        ("deblur", "blur", 0.9, 0),
        ("deblur", "night", 0.8, 5),
    ],
    ids=["glare-highlights", "crease-opening", "tilt-three-quarter", "blur-deblur", "night-deblur"],
)
def test_each_new_stage_reads_a_frame_no_other_stage_reads(
    prepare: str, condition: str, severity: float, seed: int
) -> None:
    grey = to_grey(CONDITIONS[condition](LONG_TEXT, severity, np.random.default_rng(seed)))
    stages = default_decoders()
    stage = next(d for d in stages if isinstance(d, ZxingDecoder) and d.prepare == prepare)
    assert DecoderChain(previous_decoders()).decode(grey) == []  # the chain before item 5 gave up
    assert DecoderChain([d for d in stages if d is not stage]).decode(grey) == []  # so does the rest
    assert stage.decode(grey) == [LONG_TEXT]
    assert DecoderChain().decode(grey) == [LONG_TEXT]  # the app's chain has the stage


def test_the_chain_keeps_its_first_stages_in_front() -> None:
    # A hit costs what the first stage costs only while zxing-cpp as it comes stays first, and the
    # previous chain stays a prefix (bench/scan.py compares the two on the same frames).
    names = [d.name for d in default_decoders()]
    assert names[0] == "zxing-cpp"
    assert names[: len(previous_decoders())] == [d.name for d in previous_decoders()]
    assert names[-1] == "zxing-cpp/deblur"  # the dearest when it runs goes last


def _smeared_code(length: int, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    sharp = to_grey(place(qr_image(LONG_TEXT, 6), rng))
    return sharp, cv2.filter2D(sharp, -1, motion_kernel(length, angle_deg))


@pytest.mark.parametrize(("length", "angle_deg"), [(14, 30.0), (10, 100.0), (18, 165.0)])
def test_the_smear_is_estimated_from_the_frame(length: int, angle_deg: float) -> None:
    _, smeared = _smeared_code(length, angle_deg)
    half = cv2.resize(smeared, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    motion = estimate_motion(half)
    assert motion is not None
    assert abs(motion.length - length / 2) <= 1.0  # half-scale pixels
    # motion_kernel turns counter-clockwise on screen; image y runs down, so its angle is -angle.
    off = (np.rad2deg(motion.angle) + angle_deg) % 180
    assert min(off, 180 - off) <= 8


def test_frames_without_one_direction_of_smear_are_left_alone() -> None:
    sharp, _ = _smeared_code(14, 30.0)
    half = cv2.resize(sharp, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert estimate_motion(half) is None  # a sharp code
    assert estimate_motion(cv2.GaussianBlur(half, (0, 0), 2.0)) is None  # focus blur: no direction
    empty = to_grey(background(np.random.default_rng(5)))
    assert deblurred_half(empty) is None  # the cheap exit of a frame without a code
    assert estimate_motion(np.zeros((90, 160), np.uint8)) is None  # a black frame: no gradient at all


def test_line_psf_is_a_centred_unit_line() -> None:
    flat = line_psf(5.0, 0.0)
    assert flat.shape == (5, 5)
    assert flat.sum() == pytest.approx(1.0)
    assert np.count_nonzero(flat.sum(axis=1) > 1e-6) == 1  # one row: a horizontal line
    slanted = line_psf(7.5, 0.7)
    assert slanted.sum() == pytest.approx(1.0)
    assert np.allclose(slanted, slanted[::-1, ::-1], atol=1e-6)  # symmetric: a real transfer function


@pytest.mark.parametrize("shape", [(360, 640), (361, 641), (360, 641), (361, 640)])
def test_the_packed_wiener_filter_equals_a_plain_complex_one(shape: tuple[int, int]) -> None:
    # undo_motion works in OpenCV's packed real spectrum, whose layout differs with odd and even
    # sides; numpy's complex transform is the reference it must agree with (to the rounding).
    grey = np.random.default_rng(1).integers(0, 256, shape).astype(np.uint8)
    motion = Motion(6.5, 0.4, 0.3)
    psf = line_psf(motion.length, motion.angle)
    padded = np.zeros(shape)
    padded[: psf.shape[0], : psf.shape[1]] = psf
    padded = np.roll(padded, (-(psf.shape[0] // 2), -(psf.shape[1] // 2)), axis=(0, 1))
    transfer = np.fft.fft2(padded)
    wiener = np.conj(transfer) / (np.abs(transfer) ** 2 + 0.01)
    reference = np.clip(np.real(np.fft.ifft2(np.fft.fft2(grey.astype(np.float64)) * wiener)), 0, 255)
    assert np.abs(undo_motion(grey, motion, 0.01).astype(np.float64) - reference).max() <= 1.01


def test_undoing_the_smear_brings_the_frame_back_towards_the_sharp_one() -> None:
    sharp, smeared = _smeared_code(14, 30.0)
    half_sharp, half_smeared = (
        cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for f in (sharp, smeared)
    )
    restored = undo_motion(half_smeared, Motion(7.0, float(np.deg2rad(-30.0)), 0.3))
    assert restored.shape == half_smeared.shape and restored.dtype == np.uint8
    inside = (slice(20, -20), slice(20, -20))  # the transform is circular: the frame's edges ring

    def error(frame: np.ndarray) -> float:
        return float(np.mean(np.abs(frame[inside].astype(np.float32) - half_sharp[inside])))

    assert error(restored) < 0.8 * error(half_smeared)
    # ... and the smear was what kept zxing-cpp from reading it.
    assert ZxingDecoder().decode(half_smeared) == []
    assert ZxingDecoder().decode(restored) == [LONG_TEXT]


def test_the_scan_bench_runs_its_three_parts(tmp_path: Path) -> None:
    # Not a speed test (bench/scan.py measures, with the whole set): a tiny run that keeps the
    # bench working, its goal lines included, as decoders and stages change.
    needs_zbar()  # the bench's baseline is raw pyzbar
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "bench/scan.py", "--frames", "2", "--rounds", "1", "--per-condition", "1"]
        + ["--videos", "1", "--check-seeds", "8"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for heading in ("1) 1280x720 frame -> verdict", "2) detection on 10 generated", "3) time to verdict"):
        assert heading in out
    for row in ("zx/deblur", "zx/highlights", "zx/open", "zx/3/4", "prev chain", "old chain"):
        assert f"\n{row} " in out
    assert out.count("goal: ") == 3
    assert "other hard sets (seeds [8]" in out
