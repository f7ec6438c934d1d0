from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from checkpass_testkit.synthetic import FRAME_H, FRAME_W, clean, qr_image, tilt
from checkpoint_app.decoder import DecoderChain, OpenCVDecoder, ZbarDecoder, ZxingDecoder, to_grey
from checkpoint_app.frames import FileSource, FrameSourceError, open_source
from tests.checkpoint_app.cpworld import needs_zbar

TEXT = "TP1:" + "0123456789ABCDEFGHIJ" * 8


def write_images(folder: Path, n: int) -> list[np.ndarray]:
    folder.mkdir()
    rng = np.random.default_rng(1)
    frames = [clean(f"{TEXT}{i}", 0, rng) for i in range(n)]
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:02d}.png"), frame)
    return frames


def test_folder_in_name_order_then_end_or_loop(tmp_path: Path) -> None:
    write_images(tmp_path / "f", 3)
    chain = DecoderChain()
    with FileSource(tmp_path / "f") as source:
        assert [chain.decode(f) for f in source] == [[f"{TEXT}{i}"] for i in range(3)]
        assert source.read() is None
    looping = FileSource(tmp_path / "f", loop=True)
    assert [chain.decode(looping.read()) for _ in range(5)][3] == [f"{TEXT}0"]


def test_single_image_and_video(tmp_path: Path) -> None:
    frames = write_images(tmp_path / "f", 4)
    source = open_source(f"file:{tmp_path / 'f' / '02.png'}", loop=False)
    assert source.read().shape == (FRAME_H, FRAME_W, 3)
    assert source.read() is None

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (FRAME_W, FRAME_H))
    for frame in frames:
        writer.write(frame)
    writer.release()
    with FileSource(video) as source:
        texts = [DecoderChain().decode(f) for f in source]
    assert texts == [[f"{TEXT}{i}"] for i in range(4)]
    looped = FileSource(video, loop=True)
    assert sum(1 for _ in range(9) if looped.read() is not None) == 9


def test_bad_specs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="camera must be"):
        open_source("front")
    with pytest.raises(FrameSourceError, match="no such file"):
        open_source(f"file:{tmp_path / 'missing.png'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FrameSourceError, match="no images"):
        FileSource(tmp_path / "empty")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(FrameSourceError):
        FileSource(tmp_path / "junk.mp4")


def test_each_decoder_reads_a_clean_frame_and_nothing_from_noise() -> None:
    needs_zbar()
    rng = np.random.default_rng(3)
    frame = clean(TEXT, 0, rng)
    noise = rng.integers(0, 255, size=(FRAME_H, FRAME_W, 3), dtype=np.uint8)
    for decoder in (ZxingDecoder(), ZbarDecoder(), ZbarDecoder(0.5), OpenCVDecoder()):
        assert decoder.decode(to_grey(frame)) == [TEXT], decoder.name
        assert decoder.decode(to_grey(noise)) == [], decoder.name


def test_chain_falls_back_to_second_decoder() -> None:
    # A code zxing-cpp misses but zbar reads: the chain must still read it.
    class Blind:
        name = "blind"

        def decode(self, grey: np.ndarray) -> list[str]:
            return []

    frame = tilt(TEXT, 0.0, np.random.default_rng(5))
    assert DecoderChain([Blind(), ZxingDecoder()]).decode(frame) == [TEXT]
    assert DecoderChain([Blind()]).decode(frame) == []
    with pytest.raises(ValueError):
        DecoderChain([])


def test_grey_and_bgra_frames() -> None:
    code = qr_image(TEXT, 6)
    grey = np.full((FRAME_H, FRAME_W), 255, np.uint8)
    grey[100 : 100 + code.shape[0], 100 : 100 + code.shape[1]] = code
    assert DecoderChain().decode(grey) == [TEXT]
    assert DecoderChain().decode(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)) == [TEXT]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_folder_plays_in_order_by_the_clock_and_loops(tmp_path: Path) -> None:
    # Issue 10: `--camera file:DIR/` showed the first image on every scan. A held folder follows
    # the clock: each image for hold_s, in name order, looping; reopening continues in turn.
    write_images(tmp_path / "f", 3)
    chain = DecoderChain()
    clock = FakeClock()
    source = FileSource(tmp_path / "f", loop=True, hold_s=2.0, epoch=clock.now, clock=clock)
    seen = []
    for _ in range(8):
        seen.append(chain.decode(source.read())[0][-1])
        clock.now += 1.0
    assert seen == ["0", "0", "1", "1", "2", "2", "0", "0"]
    source.close()
    reopened = FileSource(tmp_path / "f", loop=True, hold_s=2.0, epoch=100.0, clock=clock)
    assert chain.decode(reopened.read()) == [f"{TEXT}1"]  # 108 s after the epoch: the second image
    once = FileSource(tmp_path / "f", hold_s=2.0, epoch=100.0, clock=clock)
    assert once.read() is None  # without loop the play ends after the last image
    with pytest.raises(ValueError):
        FileSource(tmp_path / "f", hold_s=0)


LONG_TEXT = "TP1:" + "0123456789ABCDEFGHIJ" * 12


@pytest.mark.parametrize(
    ("condition", "seed", "severity", "stage"),
    [
        ("bloom", 2, 0.6, ZxingDecoder(binarizer="histogram")),
        ("blur", 1, 0.9, ZxingDecoder(prepare="sharpen")),
    ],
    ids=["bloom-global-threshold", "blur-sharpened"],
)
def test_later_stages_read_frames_the_first_one_misses(condition, seed, severity, stage) -> None:
    from checkpass_testkit.synthetic import CONDITIONS

    grey = to_grey(CONDITIONS[condition](LONG_TEXT, severity, np.random.default_rng(seed)))
    assert ZxingDecoder().decode(grey) == []  # zxing-cpp as it comes gives up on this frame
    assert stage.decode(grey) == [LONG_TEXT]
    assert DecoderChain().decode(grey) == [LONG_TEXT]  # and the app's chain includes the stage


def test_decoder_options_are_checked() -> None:
    with pytest.raises(ValueError):
        ZxingDecoder(prepare="magic")
    with pytest.raises(ValueError):
        ZxingDecoder(binarizer="otsu")
    assert ZxingDecoder(prepare="sharpen", binarizer="histogram").name == "zxing-cpp/sharpen/histogram"
