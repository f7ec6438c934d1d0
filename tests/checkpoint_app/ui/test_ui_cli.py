"""`checkpass checkpoint`: argument checking, and no Kivy import unless the app really starts."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checkpoint_app import cli
from tests.checkpoint_app.ui import ui_support

REPO = Path(__file__).resolve().parents[3]


def run_checkpass(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["PYTHONPATH"] = str(REPO)
    code = (
        "import sys\n"
        "from provisioning.cli import main\n"
        "try:\n"
        f"    code = main({list(args)!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "print('KIVY_IMPORTED' if 'kivy' in sys.modules else 'NO_KIVY')\n"
        "sys.exit(code)\n"
    )
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_help_lists_the_command_without_importing_kivy():
    result = run_checkpass("--help")
    assert result.returncode == 0
    assert "checkpoint" in result.stdout and "NO_KIVY" in result.stdout


def test_checkpoint_help_shows_the_contract_flags():
    result = run_checkpass("checkpoint", "--help")
    assert result.returncode == 0, result.stderr
    for flag in ("--camera", "--data", "--hub", "--lang"):
        assert flag in result.stdout
    assert "NO_KIVY" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "file:/nonexistent/qr.png"], "no such file or folder"),
        (["--camera", "webcam"], "camera index like 0 or file:PATH"),
        (["--hub", "ftp://hub"], "must start with http"),
        (["--lang", "fr"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message_and_no_window(args, message):
    result = run_checkpass("checkpoint", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "NO_KIVY" in result.stdout


def test_bad_window_size_is_a_usage_error_before_kivy(tmp_path):
    result = run_checkpass("checkpoint", "--data", str(tmp_path / "d"), "--size", "big")
    assert result.returncode == 2
    assert "--size must look like 540x960" in result.stderr and "NO_KIVY" in result.stdout


def test_camera_spec_accepts_an_index_and_resolves_a_file(tmp_path):
    image = tmp_path / "frame.png"
    image.write_bytes(b"")
    assert cli.camera_spec(" 1 ") == "1"
    assert cli.camera_spec(f"file:{image}") == f"file:{image.resolve()}"
    with pytest.raises(argparse.ArgumentTypeError):
        cli.camera_spec("file:")


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cli.DATA_ENV, str(tmp_path / "x"))
    assert cli.default_data_dir() == tmp_path / "x"
    monkeypatch.delenv(cli.DATA_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert cli.default_data_dir() == tmp_path / "xdg" / "checkpass" / "checkpoint"


@pytest.mark.parametrize(
    ("display", "window"),
    [
        (None, (540, 960)),
        ((1920, 1080), (540, 960)),
        ((1280, 720), (364, 648)),  # the laptop of issue 10: the window now fits its height
        ((1280, 800), (405, 720)),
    ],
)
def test_default_window_fits_the_screen(display, window):
    assert cli.default_window(display) == window


def test_the_display_size_is_read_from_x(monkeypatch, x_display):
    monkeypatch.setenv("DISPLAY", x_display)
    size = cli._display_size()
    assert size is not None and size[0] > 0 and size[1] > 0
    monkeypatch.delenv("DISPLAY")
    assert cli._display_size() is None


def test_the_display_size_is_read_without_the_ldconfig_cache(monkeypatch, x_display):
    """CI's fresh machine: find_library found no X11 in its cache, yet dlopen loads it by soname."""
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert cli._xlib() is not None
    monkeypatch.setenv("DISPLAY", x_display)
    size = cli._display_size()
    assert size is not None and size[0] > 0 and size[1] > 0


def test_a_display_that_refuses_at_first_is_asked_again(monkeypatch, x_display):
    """An X server still starting refuses the first connection; the window must not fall back to the
    default size for the whole shift because of it."""
    monkeypatch.setenv("DISPLAY", x_display)
    xlib = cli._xlib()
    assert xlib is not None
    opened = xlib.XOpenDisplay
    calls: list[object] = []

    class Flaky:
        def __getattr__(self, name: str) -> object:
            return getattr(xlib, name)

        def XOpenDisplay(self, name: object) -> object:  # noqa: N802 - Xlib's name
            calls.append(name)
            return None if len(calls) == 1 else opened(name)

    monkeypatch.setattr(cli, "_xlib", lambda: Flaky())
    size = cli._display_size()
    assert len(calls) == 2
    assert size is not None and size[0] > 0


x_display = ui_support.x_display
