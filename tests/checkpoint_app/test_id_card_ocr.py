"""The ID number read from a photo of the card (checkpoint_app/id_card_ocr.py), on synthetic cards
(testkit/checkpass_testkit/id_cards.py): a read the checksum passes is trusted, a card whose number fails
it is read but never trusted, a frame with no card gives nothing, and without Tesseract the reading says
it is unavailable. The read rate on a larger held-out set is measured by bench/id_card_ocr.py."""

from __future__ import annotations

import numpy as np
import pytest

from checkpass_testkit import id_cards
from checkpoint_app import id_card_ocr
from checkpoint_app.frames import FileSource
from tests.ci import skip_or_fail

# Seeds of photos these tests look at; bench/id_card_ocr.py measures on other seeds.
SEED = 3


@pytest.fixture()
def tesseract() -> None:
    if not id_card_ocr.available():
        skip_or_fail("tesseract-ocr is not installed (scripts/bootstrap installs it)")


def test_candidates_put_ocr_confusions_right_by_position():
    # A letter read as a digit in the first place, digits read as letters after it.
    assert id_card_ocr.candidates("統一編號 0I23456789") == ["O123456789"]
    assert id_card_ocr.candidates("A1Z3456B89\n") == ["A123456889"]
    # The letter and the digits split by a gap are joined.
    assert id_card_ocr.candidates("XX A 123456789") == ["A123456789"]


def test_candidates_never_take_a_window_of_a_longer_word():
    # Each window would be another one-in-ten chance for a misread to pass the checksum.
    assert id_card_ocr.candidates("A1234567890") == []
    assert id_card_ocr.candidates("QA123456789") == []
    assert id_card_ocr.candidates("A12345678") == []


@pytest.mark.parametrize("condition", ["good", "blurred", "rotated"])
def test_a_card_photo_gives_its_number_trusted(tesseract, condition):
    rng = np.random.default_rng(SEED)
    national_id = id_cards.valid_national_id(rng)
    shot = id_cards.photo(national_id, condition, seed=SEED)
    read = id_card_ocr.read_national_id(shot.frame)
    assert read == id_card_ocr.IdRead(national_id, trusted=True)


def test_a_number_that_fails_the_checksum_is_read_but_not_trusted(tesseract):
    national_id = id_cards.wrong_checksum_national_id(np.random.default_rng(SEED))
    read = id_card_ocr.read_national_id(id_cards.photo(national_id, "good", seed=SEED).frame)
    assert read.text == national_id
    assert not read.trusted


def test_a_frame_without_a_card_gives_nothing(tesseract):
    read = id_card_ocr.read_national_id(id_cards.background(np.random.default_rng(SEED)))
    assert read == id_card_ocr.IdRead(None, trusted=False)
    assert not read.found


def test_the_camera_is_read_through_its_sharpest_frame_and_closed(tesseract, tmp_path):
    import cv2

    national_id = id_cards.valid_national_id(np.random.default_rng(SEED + 1))
    shot = id_cards.photo(national_id, "good", seed=SEED + 1)
    folder = tmp_path / "camera"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), cv2.GaussianBlur(shot.frame, (0, 0), 6))  # the hand still moving
    cv2.imwrite(str(folder / "1.png"), shot.frame)
    opened: list[FileSource] = []

    def open_camera() -> FileSource:
        source = FileSource(folder)
        opened.append(source)
        return source

    assert id_card_ocr.read_from_camera(open_camera) == id_card_ocr.IdRead(national_id, trusted=True)
    assert len(opened) == 1


def test_without_tesseract_the_reading_is_unavailable_and_the_camera_stays_closed(monkeypatch):
    monkeypatch.setenv(id_card_ocr.TESSERACT_ENV, "")
    assert not id_card_ocr.available()
    with pytest.raises(id_card_ocr.PhotoReadingUnavailable):
        id_card_ocr.read_national_id(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(id_card_ocr.PhotoReadingUnavailable):
        id_card_ocr.read_from_camera(lambda: pytest.fail("the camera was opened"))
    monkeypatch.setenv(id_card_ocr.TESSERACT_ENV, "/nonexistent/tesseract")
    assert not id_card_ocr.available()
