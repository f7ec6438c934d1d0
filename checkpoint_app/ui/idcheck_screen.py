"""ID check: the officer types the number from the holder's ID card; it is compared, never stored.

The typed number lives in the TextInput only: it is cleared when the screen is left, and neither
this screen nor the service writes it anywhere. It may also be read from a photo of the card, on the
device (checkpoint_app/ui/id_photo.py).
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from checkpoint_app.ui import i18n, load_kv
from checkpoint_app.ui.id_photo import IdPhotoReading

MATCH_RGBA = (0.0, 0.42, 0.16, 1)
NO_MATCH_RGBA = (0.70, 0.0, 0.0, 1)


class IdCheckScreen(IdPhotoReading, Screen):
    result = ObjectProperty(None, allownone=True)

    def on_pre_enter(self, *_args: Any) -> None:
        self.result = None
        self.ids.typed_id.text = ""
        self.clear_photo()

    def on_enter(self, *_args: Any) -> None:
        self.ids.typed_id.focus = True

    def on_leave(self, *_args: Any) -> None:
        field = self.ids.typed_id
        field.text = ""
        field.reset_undo()  # the undo stack would otherwise keep the typed number in memory
        self.result = None
        self.clear_photo()

    def check(self) -> None:
        app = App.get_running_app()
        typed = self.ids.typed_id.text
        if app.outcome is None or not self.may_send(typed):
            return
        self.clear_photo()
        self.result = app.service.check_id(app.outcome, typed)

    def holder(self, lang: str, outcome: Any) -> str:
        if outcome is None:
            return ""
        lines = []
        if outcome.holder_name:
            lines.append(i18n.tr("verdict_holder", lang, name=outcome.holder_name))
        if outcome.masked_national_id:
            lines.append(i18n.tr("verdict_id", lang, masked=outcome.masked_national_id))
        return "\n".join(lines)

    def result_text(self, lang: str, result: Any) -> str:
        if result is None:
            return ""
        return i18n.pick(result.message_zh, result.message_en, lang)

    def result_colour(self, result: Any) -> tuple[float, float, float, float]:
        if result is None:
            return (0, 0, 0, 0)
        return MATCH_RGBA if result.ok else NO_MATCH_RGBA


load_kv(__file__)
