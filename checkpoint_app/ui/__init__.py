"""Kivy screens of the checkpoint app: one .py + one .kv per screen; the logic is in the service.

`i18n` and `live_scan` import no Kivy and are tested headless; every other module here needs Kivy.
"""

from __future__ import annotations

from pathlib import Path


def load_kv(module_file: str) -> None:
    """Load the .kv file next to a screen module (called once, at that module's import)."""
    from kivy.lang import Builder

    Builder.load_file(str(Path(module_file).with_suffix(".kv")))
