"""Enrol: scan the hub's enrolment QR (or paste its text) -> device key, registration, root pin."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import StringProperty

from checkpoint_app.ui import load_kv
from checkpoint_app.ui.camera_view import CameraScreen
from crypto.enrolment import ENROLMENT_PREFIX


class EnrolScreen(CameraScreen):
    message = StringProperty("")

    def handle_codes(self, texts: list[str]) -> bool:
        for text in texts:
            if text.startswith(ENROLMENT_PREFIX):
                Clock.schedule_once(lambda _dt, t=text: self.enrol(t))
                return True
        Clock.schedule_once(lambda _dt: self._say("enrol_wrong_qr"))
        return False

    def enrol_from_input(self) -> None:
        text = self.ids.enrol_text.text.strip()
        if text:
            self.enrol(text)

    def enrol(self, text: str) -> None:
        app = App.get_running_app()
        if app.busy:
            return
        self._say("working")
        app.run_background(lambda: app.service.enrol(text), self._enrolled, self._failed)

    def _enrolled(self, _result: Any) -> None:
        app = App.get_running_app()
        self.ids.enrol_text.text = ""
        self._say("enrol_done")
        app.refresh_status()
        app.go_home()

    def _failed(self, exc: BaseException) -> None:
        self.message = App.get_running_app().error_text(exc)
        self.resume_scanning()

    def _say(self, key: str) -> None:
        self.message = App.get_running_app().tr(key)


load_kv(__file__)
