"""身分證核實 in the real Kivy app under X (tests/checkpoint_app/ui/driver.py): offline, the screen says the
ID-card check needs the network (the pass check stays offline); a mistyped number is refused on the device."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checkpoint_app.ui import ui_support
from tests.checkpoint_app.ui.test_ui_flow import road_cam

pytestmark = pytest.mark.display

x_display = ui_support.x_display
artifacts_dir = ui_support.artifacts_dir
run_app = ui_support.run_app
core_test_support = ui_support.core_test_support

NEEDS_NETWORK = "身分證核實需要網路連線，目前離線；通行碼查驗仍可離線使用"


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
