"""身分證核實: the officer types the number on the ID card of a person with no pass at hand, and the hub
says whether that ID holds a valid pass now (checkpoint_app.id_card_lookup). It needs the network; the
screen says so when offline, and the pass check stays offline as always.

The typed number lives in the TextInput only, and only until it is sent: cleared then, and when the
screen is left; the answer shows it masked, as the hub gives it. The number may also be read from a photo
of the card, on the device (checkpoint_app/ui/id_photo.py).
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from checkpoint_app.errors import CheckpointError
from checkpoint_app.taipei import taipei_text
from checkpoint_app.ui import i18n, load_kv
from checkpoint_app.ui.id_photo import IdPhotoReading

OK_RGBA = (0.0, 0.42, 0.16, 1)
REFUSED_RGBA = (0.70, 0.0, 0.0, 1)
NOTICE_RGBA = (0.35, 0.30, 0.10, 1)


class IdCardScreen(IdPhotoReading, Screen):
    answer = ObjectProperty(None, allownone=True)
    message = StringProperty("")

    def on_pre_enter(self, *_args: Any) -> None:
        self._clear()

    def on_enter(self, *_args: Any) -> None:
        self.ids.typed_id.focus = True

    def on_leave(self, *_args: Any) -> None:
        self._clear()

    def _clear(self) -> None:
        field = self.ids.typed_id
        field.text = ""
        field.reset_undo()  # the undo stack would otherwise keep the typed number in memory
        self.answer = None
        self.message = ""
        self.clear_photo()

    def check(self) -> None:
        app = App.get_running_app()
        typed = self.ids.typed_id.text
        if not self.may_send(typed) or app.busy:
            return
        self.answer = None
        self.clear_photo()
        self.message = app.tr("working")
        self.ids.typed_id.text = ""
        self.ids.typed_id.reset_undo()
        app.run_background(lambda: app.service.check_id_card(typed), self._answered, self._failed)

    def _answered(self, answer: Any) -> None:
        self.message = ""
        self.answer = answer

    def _failed(self, exc: BaseException) -> None:
        app = App.get_running_app()
        # The core's own words (offline, mistyped, throttled) are complete sentences: shown as they are.
        self.message = exc.text(app.lang) if isinstance(exc, CheckpointError) else app.error_text(exc)

    def verdict_text(self, lang: str, answer: Any) -> str:
        if answer is None:
            return ""
        return i18n.tr("verdict_ok", lang) if answer.ok else i18n.tr("verdict_refused", lang)

    def details_text(self, lang: str, answer: Any) -> str:
        if answer is None:
            return ""
        lines = [i18n.id_card_text(answer.status, answer.message, lang)]
        if answer.holder_masked:
            lines.append(i18n.tr("verdict_holder", lang, name=answer.holder_masked))
        if answer.national_id_masked:
            lines.append(i18n.tr("verdict_id", lang, masked=answer.national_id_masked))
        if answer.organisation:
            lines.append(i18n.tr("verdict_org", lang, org=answer.organisation))
        if answer.expires_at:
            lines.append(i18n.tr("verdict_valid_until", lang, when=taipei_text(answer.expires_at)))
        return "\n".join(lines)

    def colour(self, answer: Any, message: str) -> tuple[float, float, float, float]:
        if answer is not None:
            return OK_RGBA if answer.ok else REFUSED_RGBA
        return NOTICE_RGBA if message else (0, 0, 0, 0)


load_kv(__file__)
