"""Scan: the live camera; the first pass seen is verified, logged durably, then shown as a verdict."""

from __future__ import annotations

import time
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import StringProperty
from kivy.uix.popup import Popup

from checkpoint_app.errors import NoOfficerError, NotEnrolledError
from checkpoint_app.ui import load_kv
from checkpoint_app.ui.camera_view import CameraScreen
from checkpoint_app.ui.taps import SETTLE_S
from crypto.passes import PASS_PREFIX


def choose_code(texts: list[str]) -> str:
    """One scan, one pass: a Checkpass code wins over other QR codes in the same frame.

    A foreign QR alone is still checked, so the officer sees "not a Checkpass pass" rather
    than a camera that seems to ignore what it is shown.
    """
    for text in texts:
        if text.startswith(PASS_PREFIX):
            return text
    return texts[0]


class ScanScreen(CameraScreen):
    torch_message = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Built once, ahead: its texts are rendered before the first 登出, so opening it costs no
        # frame (a slow first frame would eat into its guard against a double tap).
        self.logout_confirm = LogoutConfirm(on_confirm=self.logout)

    def on_pre_enter(self, *_args: Any) -> None:
        app = App.get_running_app()
        if app.service.officer() is None:
            # The shift's credential expired while another screen was up: no scanning without one.
            Clock.schedule_once(lambda _dt: app.go_home())

    def handle_codes(self, texts: list[str]) -> bool:
        """Decode thread: verify and write to the outbox here, so the UI thread never waits on disk."""
        app = App.get_running_app()
        try:
            outcome = app.service.check_pass(choose_code(texts))
        except (NoOfficerError, NotEnrolledError):
            Clock.schedule_once(lambda _dt: app.go_home())
            return True
        Clock.schedule_once(lambda _dt: app.show_outcome(outcome))
        return True

    def toggle_torch(self) -> None:
        app = App.get_running_app()
        if not app.torch.available:
            self.torch_message = app.tr("torch_unavailable")
            Clock.schedule_once(lambda _dt: setattr(self, "torch_message", ""), 3)
            return
        app.toggle_torch()

    def ask_logout(self) -> LogoutConfirm:
        """Logging out ends the shift on this device (a new SMS login to scan again): ask first."""
        self.logout_confirm.open()
        return self.logout_confirm

    def logout(self) -> None:
        app = App.get_running_app()
        app.service.logout()
        app.refresh_status()
        app.go_home()


ENTER_KEYS = (13, 271)  # Return, keypad Enter


class LogoutConfirm(Popup):
    """Are you sure? 取消 is the safe default; only a deliberate tap on 登出 logs out."""

    def __init__(self, on_confirm: Any, **kwargs: Any) -> None:
        self._on_confirm = on_confirm
        self._opened_at = time.monotonic()
        super().__init__(**kwargs)

    def on_pre_open(self) -> None:
        # on_open comes only after the opening animation: the guard starts here, and again from
        # the first frame that shows the popup whole (what the officer can see).
        self._opened_at = time.monotonic()
        Window.bind(on_keyboard=self._on_keyboard)

    def on_open(self) -> None:
        self._opened_at = time.monotonic()

    def on_dismiss(self) -> None:
        Window.unbind(on_keyboard=self._on_keyboard)

    def on_touch_down(self, touch: Any) -> bool:
        # The second tap of a double tap on 登出 lands here: it neither confirms nor cancels.
        if time.monotonic() - self._opened_at < SETTLE_S:
            return True
        return super().on_touch_down(touch)

    def _on_keyboard(self, _window: Any, key: int, *_args: Any) -> bool:
        if key in ENTER_KEYS:
            self.dismiss()  # the default choice is the safe one
            return True
        return False  # Escape / the back key: the popup's own handling dismisses it

    def confirm(self) -> None:
        self.dismiss()
        self._on_confirm()


load_kv(__file__)
