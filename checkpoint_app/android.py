"""The checkpoint app's entry point on Android, beside `checkpass checkpoint` (checkpoint_app.cli) for
desktops: both start `checkpoint_app.app.CheckpointApp`, which imports neither."""

from __future__ import annotations

from pathlib import Path

from checkpoint_app.app import AppOptions, CheckpointApp
from checkpoint_app.cli import default_data_dir
from checkpoint_app.ui import i18n


def android_main() -> None:
    """Entry point of a python-for-android build (buildozer.spec); not run in CI (no device here).

    The packager's main.py is `from checkpoint_app.android import android_main; android_main()`.
    """
    from kivy.utils import platform

    data_dir = default_data_dir()
    if platform == "android":
        from android.permissions import Permission, request_permissions  # type: ignore[import-not-found]
        from android.storage import app_storage_path  # type: ignore[import-not-found]

        request_permissions([Permission.CAMERA])
        data_dir = Path(app_storage_path()) / "checkpoint"
    data_dir.mkdir(parents=True, exist_ok=True)
    CheckpointApp(AppOptions(data_dir=data_dir, camera="0", lang=i18n.initial_language())).run()
