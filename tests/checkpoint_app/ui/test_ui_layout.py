"""Every screen at the screen sizes below, in both languages: every button inside the window and at
least 12 mm on each side (a gloved thumb), no label cut, every message line wholly in view (the
line under 登入 with its longest text too), and no destructive button (登出, the logout
confirmation's 登出) where another screen has a main one. Screenshots of each go to
build/test-artifacts/checkpoint_ui/layout/.

Each size runs the real app in its own process under a private Xvfb big enough for the largest
window (the shared display may be smaller), with Kivy's density and dpi set to what such a
device reports, so dp/sp and millimetres mean on screen what they mean on the device.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checkpoint_app.ui import ui_support
from tests.checkpoint_app.ui.test_ui_flow import road_cam

pytestmark = pytest.mark.display

artifacts_dir = ui_support.artifacts_dir
core_test_support = ui_support.core_test_support

# (width, height, density): portrait phones (360x640 dp, 393x851 dp), a small phone (320x533 dp),
# a portrait tablet (800x1280), landscape tablets (1280x720, 1280x800, 1920x1200 = 1280x800 dp).
# The density is the Android bucket such a screen usually has; dpi = 160 x density.
SIZES = [
    (720, 1280, 2.0),
    (1080, 2340, 2.75),
    (480, 800, 1.5),
    (800, 1280, 1.0),
    (1280, 720, 1.0),
    (1280, 800, 1.0),
    (1920, 1200, 1.5),
]
MIN_TARGET_MM = 12.0
SCREENS = [
    "scan",
    "logout_confirm",
    "verdict_valid",
    "verdict_refused",
    "idcheck",
    "history",
    "sync",
    "login",
    "login_code_sent",
    "enrol",
]


@pytest.fixture(scope="module")
def big_display() -> Iterator[str]:
    # The shared display (1280x800) is smaller than the largest sizes under test.
    yield from ui_support.private_xvfb("2000x2400")


def _steps(shots: str, valid: str, refused: str) -> list[dict]:
    steps: list[dict] = [{"do": "wait_screen", "name": "scan"}]
    for lang in ("zh", "en"):
        steps.append({"do": "lang", "value": lang})
        for screen in SCREENS:
            if screen.startswith("verdict"):
                steps.append({"do": "show_outcome", "text": valid if screen == "verdict_valid" else refused})
                steps.append({"do": "wait_screen", "name": "verdict"})
            elif screen == "logout_confirm":
                steps += [
                    {"do": "settle", "seconds": 0.6},
                    {"do": "tap", "screen": "scan", "id": "logout"},
                    {"do": "wait_popup"},
                ]
            elif screen == "login_code_sent":
                # The longest line under 登入: it must show whole, without scrolling, at every size.
                steps.append(
                    {"do": "say", "screen": "login", "key": "login_code_sent", "values": {"minutes": 5}}
                )
            else:
                steps.append({"do": "go", "name": screen})
                steps.append({"do": "wait_screen", "name": screen})
            steps += [
                {"do": "settle", "seconds": 0.25},
                {"do": "layout_check", "min_mm": MIN_TARGET_MM, "as": f"{lang}_{screen}"},
                {"do": "roles", "as": f"roles_{lang}_{screen}"},
                {"do": "shot", "dir": shots, "name": f"{lang}_{screen}"},
            ]
            if screen == "logout_confirm":
                steps += [{"do": "key", "key": 27}, {"do": "wait_popup", "open": False}]
    return steps


# Main buttons that never change the screen: the second tap of a double tap on one lands on the same
# screen (test_ui_taps.py taps them twice), so what other screens have under them does not matter.
STAY_ON_SCREEN = {("login", "send_code"), ("idcheck", "check"), ("sync", "sync_now")}


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def destructive_under_main(records: dict) -> list[str]:
    """Every destructive button that sits where another screen has a main button (the second tap
    of a double tap on that one lands on it), and a confirmation whose 登出 sits where the 登出
    that opened it was (the popup comes up only from there)."""
    clashes = []
    for lang in ("zh", "en"):
        boxes = [
            dict(box, shot=screen)
            for screen in SCREENS
            if screen != "logout_confirm"
            for box in records[f"roles_{lang}_{screen}"]
        ]
        for bad in (b for b in boxes if b["role"] == "destructive"):
            for main in boxes:
                if main["role"] != "main" or main["where"] == bad["where"]:
                    continue
                if (main["where"], main["id"]) in STAY_ON_SCREEN:
                    continue
                if _overlap(bad["box"], main["box"]):
                    clashes.append(f"{lang}: {bad['shot']}.{bad['id']} under {main['shot']}.{main['id']}")
        logout = [b for b in boxes if b["shot"] == "scan" and b["id"] == "logout"]
        confirm = [b for b in records[f"roles_{lang}_logout_confirm"] if b["id"] == "confirm"]
        assert logout and confirm, "the roles were not recorded"
        if _overlap(logout[0]["box"], confirm[0]["box"]):
            clashes.append(f"{lang}: the confirmation's 登出 is under the scan screen's 登出")
    return clashes


@pytest.mark.parametrize(("width", "height", "density"), SIZES, ids=[f"{w}x{h}" for w, h, _ in SIZES])
def test_every_screen_fits_and_every_button_is_reachable(
    big_display, artifacts_dir, tmp_path, width, height, density
):
    core = core_test_support()
    world = core.World()
    valid, _ = world.make_pass(name="歐陽大明", masked_id="A12*5*6*9*")
    refused, revoked = world.make_pass(name="王小華", masked_id="F12*4*6*8*")
    world.status.revoke(revoked.serial)
    data = tmp_path / "device"
    core.seed_store(data, world)
    shots = artifacts_dir / "layout" / f"{width}x{height}"
    shots.mkdir(parents=True, exist_ok=True)
    result = ui_support._run_app(
        big_display,
        tmp_path,
        _steps(str(shots), valid, refused),
        ["--camera", road_cam(tmp_path), "--data", str(data), "--size", f"{width}x{height}"],
        timeout=300.0,
        extra_env={"KIVY_METRICS_DENSITY": str(density), "KIVY_DPI": str(160 * density)},
    )
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    checks = {name: record for name, record in records.items() if not name.startswith("roles_")}
    problems = {name: record["problems"] for name, record in checks.items() if record["problems"]}
    assert problems == {}
    for name, record in checks.items():
        assert record["window"] == [width, height], name
        assert record["buttons"] >= 1 and record["labels"] >= 1, name
    assert destructive_under_main(records) == []
    for lang in ("zh", "en"):
        for screen in SCREENS:
            assert Path(result["shots"][f"{lang}_{screen}"]).stat().st_size > 5_000
