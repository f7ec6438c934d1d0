"""身分證核實 in the real Kivy app under X (tests/checkpoint_app/ui/driver.py): offline, the screen says the
ID-card check needs the network (the pass check stays offline); a mistyped number is refused on the device."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checkpoint_app.ui import ui_support
from tests.checkpoint_app.ui.test_ui_flow import road_cam
from tests.ci import skip_or_fail

pytestmark = pytest.mark.display

x_display = ui_support.x_display
artifacts_dir = ui_support.artifacts_dir
run_app = ui_support.run_app
core_test_support = ui_support.core_test_support

NEEDS_NETWORK = "身分證核實需要網路連線，目前離線；通行碼查驗仍可離線使用"
UNAVAILABLE = "本裝置無法讀取證件照片（未安裝文字辨識程式），請直接輸入號碼"


def test_offline_the_id_card_check_says_it_needs_the_network(run_app, artifacts_dir, tmp_path):
    core = core_test_support()
    world = core.World()
    data = tmp_path / "device"
    core.seed_store(data, world)  # enrolled, an officer logged in, the hub unreachable
    shots = str(artifacts_dir)
    steps = [
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "id_card"},
        {"do": "wait_screen", "name": "id_card"},
        {"do": "type", "screen": "id_card", "id": "typed_id", "text": "a123456788"},
        {"do": "press", "screen": "id_card", "id": "check"},
        {"do": "wait_text", "screen": "id_card", "id": "message", "contains": "檢查碼"},
        {"do": "record", "screen": "id_card", "ids": ["message", "word", "typed_id"], "as": "mistyped"},
        {"do": "type", "screen": "id_card", "id": "typed_id", "text": "a123456789"},
        {"do": "press", "screen": "id_card", "id": "check"},
        {"do": "wait_text", "screen": "id_card", "id": "message", "equals": NEEDS_NETWORK},
        {"do": "record", "screen": "id_card", "ids": ["message", "word", "typed_id"], "as": "offline"},
        {"do": "settle", "seconds": 1.0},
        {"do": "shot", "dir": shots, "name": "offline_id_card_check"},
        {"do": "press", "screen": "id_card", "id": "back"},
        {"do": "wait_screen", "name": "scan"},
    ]
    # a width that is a multiple of 4: Kivy reads the screenshot back with 4-byte row alignment
    result = run_app(steps, ["--camera", road_cam(tmp_path), "--data", str(data), "--size", "540x960"])
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    assert records["mistyped"]["word"] == ""
    assert records["offline"]["message"] == NEEDS_NETWORK
    assert records["offline"]["word"] == ""  # no verdict is made up offline
    assert records["offline"]["typed_id"] == ""  # the number left the field once sent
    assert Path(result["shots"]["offline_id_card_check"]).stat().st_size > 10_000
    for path in data.rglob("*"):
        if path.is_file():
            assert b"A123456789" not in path.read_bytes().upper(), path
    log = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "A123456789" not in log.upper()


def _card_camera(directory: Path, national_id: str, name: str) -> str:
    import cv2

    from checkpass_testkit import id_cards

    path = directory / f"{name}.png"
    cv2.imwrite(str(path), id_cards.photo(national_id, "good", seed=11).frame)
    return f"file:{path}"


def test_the_number_is_read_from_a_photo_of_the_card_and_an_untrusted_read_is_not_sent(
    run_app, artifacts_dir, tmp_path
):
    from checkpoint_app import id_card_ocr

    if not id_card_ocr.available():
        skip_or_fail("tesseract-ocr is not installed (scripts/bootstrap installs it)")
    core = core_test_support()
    world = core.World()
    data = tmp_path / "device"
    core.seed_store(data, world)  # offline: a sent number comes back with "needs the network"
    good = _card_camera(tmp_path, "A123456789", "card")
    misprinted = _card_camera(tmp_path, "A123456788", "misprinted")  # its check digit is wrong
    shots = str(artifacts_dir)
    steps = [
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "id_card"},
        {"do": "wait_screen", "name": "id_card"},
        {"do": "camera", "spec": misprinted},
        {"do": "press", "screen": "id_card", "id": "read_photo"},
        {"do": "wait_text", "screen": "id_card", "id": "photo_message", "contains": "未通過檢查碼"},
        {"do": "record", "screen": "id_card", "ids": ["typed_id", "photo_message"], "as": "untrusted"},
        {"do": "record_disabled", "screen": "id_card", "ids": ["check"], "as": "untrusted_buttons"},
        {"do": "settle", "seconds": 0.5},
        {"do": "shot", "dir": shots, "name": "id_card_photo_untrusted"},
        {"do": "camera", "spec": good},
        {"do": "press", "screen": "id_card", "id": "read_photo"},
        {"do": "wait_text", "screen": "id_card", "id": "photo_message", "contains": "已從照片讀出號碼"},
        {"do": "record", "screen": "id_card", "ids": ["typed_id", "photo_message"], "as": "trusted"},
        {"do": "record_disabled", "screen": "id_card", "ids": ["check"], "as": "trusted_buttons"},
        {"do": "settle", "seconds": 0.5},
        {"do": "shot", "dir": shots, "name": "id_card_photo_read"},
        {"do": "lang", "value": "en"},
        {"do": "record", "screen": "id_card", "ids": ["read_photo"], "as": "english"},
        {"do": "lang", "value": "zh"},
        {"do": "press", "screen": "id_card", "id": "check"},
        {"do": "wait_text", "screen": "id_card", "id": "message", "equals": NEEDS_NETWORK},
        {"do": "record", "screen": "id_card", "ids": ["typed_id", "photo_message"], "as": "sent"},
    ]
    result = run_app(steps, ["--camera", road_cam(tmp_path), "--data", str(data), "--size", "540x960"])
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    assert records["untrusted"]["typed_id"] == "A123456788"  # shown for the officer to correct
    assert records["untrusted_buttons"] == {"check": True}  # and not sent as it is
    assert records["trusted"]["typed_id"] == "A123456789"
    assert records["trusted_buttons"] == {"check": False}
    assert records["english"]["read_photo"] == "Read the number from the card"
    assert records["sent"] == {"typed_id": "", "photo_message": "", "_screen": "id_card"}
    for name in ("id_card_photo_untrusted", "id_card_photo_read"):
        assert Path(result["shots"][name]).stat().st_size > 10_000
    log = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "A123456789" not in log.upper() and "A123456788" not in log.upper()


def test_without_tesseract_the_photo_button_says_the_reading_is_unavailable(run_app, tmp_path):
    core = core_test_support()
    world = core.World()
    data = tmp_path / "device"
    core.seed_store(data, world)
    steps = [
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "id_card"},
        {"do": "wait_screen", "name": "id_card"},
        {"do": "press", "screen": "id_card", "id": "read_photo"},
        {"do": "wait_text", "screen": "id_card", "id": "photo_message", "contains": "文字辨識"},
        {"do": "record", "screen": "id_card", "ids": ["typed_id", "photo_message"], "as": "unavailable"},
        {"do": "type", "screen": "id_card", "id": "typed_id", "text": "A123456789"},
        {"do": "press", "screen": "id_card", "id": "check"},  # typing works as before
        {"do": "wait_text", "screen": "id_card", "id": "message", "equals": NEEDS_NETWORK},
    ]
    result = run_app(
        steps,
        ["--camera", road_cam(tmp_path), "--data", str(data), "--size", "540x960"],
        extra_env={"CHECKPASS_TESSERACT": ""},
    )
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    unavailable = result["records"]["unavailable"]
    assert unavailable["photo_message"] == UNAVAILABLE
    assert unavailable["typed_id"] == ""
