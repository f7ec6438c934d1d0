"""讀取證件照片 on the two ID screens (身分證核實, and 核對證件 after a scan): one button takes the
sharpest of a few camera frames, reads the ID number in it on the device (checkpoint_app.id_card_ocr),
and fills the screen's `typed_id` field.

A read the checksum trusts fills the field for the officer to compare with the card and send. One it
does not trust fills it too, with a notice to correct it against the card, and the screen will not send
it unchanged (`may_send`). Without Tesseract the button says the photo reading is unavailable here, and
typing works as before.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty

from checkpoint_app import id_card_ocr


class IdPhotoReading:
    """Mixed into a Screen whose kv has a `typed_id` TextInput. The screen shows `photo_message`."""

    photo_message = StringProperty("")
    untrusted_read = StringProperty("")  # the last read the checksum refused, until the officer edits it

    def photo_available(self) -> bool:
        return id_card_ocr.available()

    def read_photo(self) -> None:
        app = App.get_running_app()
        if app.busy:
            return
        if not self.photo_available():
            self.photo_message = app.tr("idphoto_unavailable")
            return
        self.photo_message = app.tr("idphoto_reading")
        app.run_background(
            lambda: id_card_ocr.read_from_camera(app.open_camera), self._photo_read, self._photo_failed
        )

    def may_send(self, typed: str, _untrusted: str = "") -> bool:
        """False while the field still holds, unchanged, a read the checksum did not trust. (kv rules
        pass `root.untrusted_read` as well, only so that they re-evaluate when it changes.)"""
        return bool(typed.strip()) and typed != self.untrusted_read

    def clear_photo(self) -> None:
        self.photo_message = ""
        self.untrusted_read = ""

    def _photo_read(self, read: id_card_ocr.IdRead) -> None:
        app = App.get_running_app()
        field = self.ids.typed_id  # type: ignore[attr-defined]
        if read.text is None:
            self.untrusted_read = ""
            self.photo_message = app.tr("idphoto_not_found")
            return
        self.untrusted_read = "" if read.trusted else read.text
        field.text = read.text
        field.reset_undo()
        self.photo_message = app.tr("idphoto_trusted") if read.trusted else app.tr("idphoto_untrusted")

    def _photo_failed(self, exc: BaseException) -> None:
        app = App.get_running_app()
        if isinstance(exc, id_card_ocr.PhotoReadingUnavailable):
            self.photo_message = app.tr("idphoto_unavailable")
        elif isinstance(exc, OSError):  # FrameSourceError: no camera, or it stopped
            self.photo_message = app.tr("scan_no_camera")
        else:
            self.photo_message = app.error_text(exc)
