"""`checkpass checkpoint`: start the Kivy checkpoint app.

Kivy is imported inside the command only: `checkpass --help` and every other subcommand must work
on a machine with no display and no Kivy (a hub server).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import Any

from checkpoint_app.ui.i18n import LANG_ENV, LANGUAGES

DATA_ENV = "CHECKPASS_CHECKPOINT_DATA"


def default_data_dir() -> Path:
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "checkpass" / "checkpoint"


def camera_spec(value: str) -> str:
    """argparse type: 'N' (camera index) or 'file:PATH' (an image, a folder of images, a video)."""
    value = value.strip()
    if value.isdigit():
        return value
    if value.startswith("file:") and len(value) > len("file:"):
        path = Path(value[len("file:") :]).expanduser()
        if not path.exists():
            raise argparse.ArgumentTypeError(f"no such file or folder: {path}")
        return f"file:{path.resolve()}"
    raise argparse.ArgumentTypeError(f"expected a camera index like 0 or file:PATH, not {value!r}")


def hub_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"the hub URL must start with http:// or https://, not {value!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "checkpoint",
        help="start the checkpoint app (camera scanning, offline verdicts)",
        description="Start the Kivy checkpoint app.",
    )
    parser.add_argument(
        "--camera",
        type=camera_spec,
        default="0",
        metavar="N|file:PATH",
        help="camera index (default 0), or file:PATH: frames from an image, a folder of images or a video",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"device data directory (keys, trust data, scan log); default ${DATA_ENV}"
        " or ~/.local/share/checkpass/checkpoint",
    )
    parser.add_argument(
        "--hub", type=hub_url, default=None, metavar="URL", help="override the hub URL from enrolment"
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help=f"UI language (default ${LANG_ENV} or zh: Traditional Chinese)",
    )
    parser.add_argument(
        "--stale-policy",
        choices=("flag", "refuse"),
        default="flag",
        help="when trust data is past its validity: accept passes flagged STALE (default) or refuse them",
    )
    parser.add_argument(
        "--size",
        default=None,
        metavar="WxH",
        help="window size on desktop, e.g. 540x960 (default: portrait phone)",
    )
    parser.set_defaults(func=run)


DEFAULT_WINDOW = (540, 960)


def _xlib() -> Any | None:
    """libX11, or None where there is none (Wayland-only, macOS, Windows)."""
    import ctypes
    import ctypes.util

    # find_library reads the ldconfig cache (or asks gcc); a fresh machine's cache can miss a library
    # that dlopen still finds by its soname, which is how SDL itself loads Xlib.
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        xlib = ctypes.CDLL(name)
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
        xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return xlib


def _display_size() -> tuple[int, int] | None:
    """The X screen's size in pixels, or None (no X, no libX11)."""
    if not os.environ.get("DISPLAY"):
        return None
    xlib = _xlib()
    if xlib is None:
        return None
    # An X server busy starting (or with a full accept queue) refuses a connection now and takes it a
    # moment later; a window of the wrong size for the whole shift is worse than a short wait.
    for wait in (0.0, 0.1, 0.3):
        time.sleep(wait)
        display = xlib.XOpenDisplay(None)
        if display:
            break
    else:
        return None
    screen = xlib.XDefaultScreen(display)
    size = (int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen)))
    xlib.XCloseDisplay(display)
    return size


def default_window(display: tuple[int, int] | None) -> tuple[int, int]:
    """A portrait phone-shaped window that fits the screen: 540x960, shrunk to 90% of a smaller
    screen's height (a 1280x720 laptop got a window taller than itself, title and buttons cut)."""
    width, height = DEFAULT_WINDOW
    if display is None:
        return DEFAULT_WINDOW
    fit = min(1.0, display[1] * 0.9 / height, display[0] * 0.9 / width)
    return (max(200, int(width * fit)), max(200, int(height * fit)))


def _window_size(value: str | None) -> tuple[int, int]:
    from provisioning.cli import UsageError

    if value is None:
        return default_window(_display_size())
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 540x960, not {value!r}") from None
    if not (200 <= width <= 4000 and 200 <= height <= 4000):
        raise UsageError("--size must be between 200x200 and 4000x4000")
    return (width, height)


def prepare_kivy(data_dir: Path, size: tuple[int, int]) -> None:
    """Settings Kivy reads at import time, so this runs before the first `import kivy`."""
    # Kivy parses sys.argv itself unless told not to; our flags are not its flags.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy keeps its config and logs under KIVY_HOME; keep them with the device data, not in ~/.kivy.
    os.environ.setdefault("KIVY_HOME", str(data_dir / "kivy"))
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("kivy", "exit_on_escape", "0")  # a stray Esc must not end a shift
    Config.set("input", "mouse", "mouse,disable_multitouch")
    quiet_http_logging()


# Libraries whose records at INFO and below are per-request chatter (httpcore: every connection and
# the response headers of each sync; httpx: one line per request), not news for the officer.
HTTP_LOGGERS = ("httpx", "httpcore")


def quiet_http_logging() -> None:
    """Keep the HTTP client's records below WARNING off the console.

    Importing Kivy puts its console handler on the root logger and leaves the root level at NOTSET,
    so without this every sync printed dozens of httpcore DEBUG lines. The app shows sync state in
    its own status bar; failures still surface as warnings.
    """
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from checkpoint_app.ui.i18n import initial_language

    data_dir = (args.data or default_data_dir()).expanduser().resolve()
    size = _window_size(args.size)
    data_dir.mkdir(parents=True, exist_ok=True)
    prepare_kivy(data_dir, size)

    from checkpoint_app.app import AppOptions, CheckpointApp

    options = AppOptions(
        data_dir=data_dir,
        camera=args.camera,
        hub_url=args.hub,
        lang=initial_language(args.lang),
        stale_policy=args.stale_policy,
    )
    CheckpointApp(options).run()
    return 0
