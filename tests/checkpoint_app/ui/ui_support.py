"""Fixtures for the Kivy UI tests: an X display (Xvfb when none is set), an artifacts folder for the
screenshots, a runner for the scenario driver (one app process per test), and the core's test world.

Not a conftest.py: with several conftest.py files in one run, the module named "conftest" is
whichever was loaded last, so helpers there cannot be imported reliably. Test modules take these
fixtures by name.
With no display and no Xvfb the tests skip locally; with CI set (tests/ci.py) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ci import in_ci

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
DRIVER = HERE / "driver.py"
ARTIFACTS_ENV = "CHECKPASS_TEST_ARTIFACTS"


def core_test_support() -> Any:
    """The core's test helpers (tests/checkpoint_app/cpworld.py: World, seed_store)."""
    from tests.checkpoint_app import cpworld

    return cpworld


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """The DISPLAY to use: the caller's if it answers, else a private Xvfb started (and stopped) here.
    Under pytest-xdist each worker has its own: two app windows on one X screen without a compositor
    would read back each other's pixels in their screenshots."""
    display = os.environ.get("DISPLAY", "")
    if display and not os.environ.get("PYTEST_XDIST_WORKER") and _x_server_answers(display):
        yield display
        return
    yield from private_xvfb("1280x1024")


def _x_server_answers(display: str) -> bool:
    """A local display (":N") whose socket accepts a connection; a dead server's socket file may remain."""
    if not display.startswith(":"):
        return True  # a remote or forwarded display: trust the caller
    number = display[1:].split(".")[0]
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(f"/tmp/.X11-unix/X{number}")
        except OSError:
            return False
    return True


def private_xvfb(size: str) -> Iterator[str]:
    """Start an Xvfb of its own with a screen of `size` (WxH), yield its DISPLAY, stop it afterwards."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if in_ci():
            pytest.fail("CI is set but there is no Xvfb: the UI tests must run in CI")
        pytest.skip("no Xvfb")
    read_fd, write_fd = os.pipe()
    # -displayfd: Xvfb picks a free display number and writes it once it accepts connections.
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots land here (CI uploads it): $CHECKPASS_TEST_ARTIFACTS or build/test-artifacts."""
    base = Path(os.environ.get(ARTIFACTS_ENV) or REPO / "build" / "test-artifacts")
    target = base / "checkpoint_ui"
    target.mkdir(parents=True, exist_ok=True)
    return target


def _run_app(
    display: str,
    workdir: Path,
    steps: list[dict[str, Any]],
    app_args: list[str],
    *,
    timeout: float = 80.0,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the app with the scenario in a subprocess; returns the driver's results (and its log)."""
    scenario = workdir / "scenario.json"
    results = workdir / "results.json"
    scenario.write_text(json.dumps(steps, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        {
            "DISPLAY": display,
            "KIVY_NO_ARGS": "1",
            "KIVY_HOME": str(workdir / "kivy-home"),
            "KIVY_NO_FILELOG": "1",
            "PYTHONPATH": str(REPO),
        }
    )
    env.pop("CHECKPASS_LANG", None)
    env.update(extra_env or {})
    completed = subprocess.run(
        [sys.executable, str(DRIVER), str(scenario), str(results), "--", *app_args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    (workdir / "app.log").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    if not results.exists():
        raise AssertionError(
            f"the app wrote no results (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
        )
    outcome = json.loads(results.read_text(encoding="utf-8"))
    outcome["exit_code"] = completed.returncode
    outcome["stderr_tail"] = completed.stderr[-4000:]
    return outcome


@pytest.fixture
def run_app(x_display: str, tmp_path: Path):  # noqa: ANN201 - returns the runner
    """`run_app(steps, app_args, **options)` -> the driver's results, in this test's tmp_path."""

    def runner(steps: list[dict[str, Any]], app_args: list[str], **options: Any) -> dict[str, Any]:
        return _run_app(x_display, tmp_path, steps, app_args, **options)

    return runner
