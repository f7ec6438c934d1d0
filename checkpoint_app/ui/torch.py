"""The torch (flash LED) toggle.

OpenCV cannot switch a torch on desktop webcams, so there the toggle reports "unavailable".
On Android, CameraManager.setTorchMode (API 23+) is called through pyjnius, with plyer's flash
as a fallback; both imports are guarded and both paths are untested here (no device in CI).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Torch:
    def __init__(self, switch: Callable[[bool], None] | None) -> None:
        self._switch = switch
        self.on = False

    @property
    def available(self) -> bool:
        return self._switch is not None

    def set(self, on: bool) -> bool:
        """Switch the torch; returns the state it is in afterwards (unchanged if it failed)."""
        if self._switch is None:
            return self.on
        try:
            self._switch(on)
        except Exception as exc:  # a camera that holds the LED, a missing permission, ...
            log.warning("torch: %s", exc)
            return self.on
        self.on = on
        return self.on

    def toggle(self) -> bool:
        return self.set(not self.on)


def _android_switch() -> Callable[[bool], None] | None:
    try:
        from jnius import autoclass  # type: ignore[import-not-found]

        activity = autoclass("org.kivy.android.PythonActivity").mActivity
        context = autoclass("android.content.Context")
        manager = activity.getSystemService(context.CAMERA_SERVICE)
        characteristics = autoclass("android.hardware.camera2.CameraCharacteristics")
        camera_id = None
        for candidate in manager.getCameraIdList():
            if manager.getCameraCharacteristics(candidate).get(characteristics.FLASH_INFO_AVAILABLE):
                camera_id = candidate
                break
        if camera_id is None:
            return None
        return lambda on: manager.setTorchMode(camera_id, bool(on))
    except Exception as exc:
        log.info("camera2 torch unavailable: %s", exc)
    try:
        from plyer import flash  # type: ignore[import-not-found]

        return lambda on: flash.on() if on else flash.off()
    except Exception as exc:
        log.info("plyer flash unavailable: %s", exc)
        return None


def platform_torch() -> Torch:
    try:
        from kivy.utils import platform
    except Exception:
        platform = "unknown"
    if platform == "android":
        return Torch(_android_switch())
    return Torch(None)
