"""The camera on screen: a view of a LiveScanner's newest frame, and a screen that owns one."""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from checkpoint_app.ui.live_scan import LiveScanner


class CameraView(Image):
    frames_shown = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fit_mode", "contain")
        super().__init__(**kwargs)
        self._scanner: LiveScanner | None = None
        self._serial = -1
        self._event: Any = None

    def attach(self, scanner: LiveScanner, fps: float = 30.0) -> None:
        self.detach()
        self._scanner = scanner
        self._serial = -1
        self._event = Clock.schedule_interval(self._poll, 1.0 / fps)

    def detach(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._scanner = None

    def _poll(self, _dt: float) -> None:
        if self._scanner is None:
            return
        serial, frame = self._scanner.preview()
        if frame is None or serial == self._serial:
            return  # nothing new: don't upload the same pixels again
        self._serial = serial
        self.show_frame(frame)

    def show_frame(self, frame: Any) -> None:
        """Upload a numpy frame (BGR, or grey) as the texture; rebuilt only when the size changes."""
        height, width = frame.shape[:2]
        colorfmt = "luminance" if frame.ndim == 2 else ("bgra" if frame.shape[2] == 4 else "bgr")
        texture = self.texture
        if texture is None or texture.size != (width, height) or texture.colorfmt != colorfmt:
            texture = Texture.create(size=(width, height), colorfmt=colorfmt)
            texture.flip_vertical()  # numpy rows run top-down, GL rows bottom-up
        texture.blit_buffer(frame.tobytes(), colorfmt=colorfmt, bufferfmt="ubyte")
        self.texture = texture
        self.canvas.ask_update()
        self.frames_shown += 1


class CameraScreen(Screen):
    """A screen that runs the camera while it is shown (and releases it when it is not).

    Subclasses give `handle_codes`, called on the decode thread; it returns True when it acted
    (the scanner then pauses until `resume_scanning`).
    """

    camera_error = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scanner: LiveScanner | None = None

    @property
    def camera_view(self) -> CameraView:
        return self.ids.camera

    def on_enter(self, *_args: Any) -> None:
        self.start_camera()

    def on_leave(self, *_args: Any) -> None:
        self.stop_camera()

    def start_camera(self) -> None:
        app = App.get_running_app()
        self.stop_camera()
        self.camera_error = ""
        self.scanner = LiveScanner(
            app.open_camera,
            app.service.decode_frame,
            self.handle_codes,
            on_error=self._camera_failed,
            repeat_filter=app.repeats,
        )
        self.scanner.start()
        self.camera_view.attach(self.scanner)

    def stop_camera(self) -> None:
        if self.scanner is not None:
            self.camera_view.detach()
            self.scanner.stop()
            self.scanner = None

    def resume_scanning(self) -> None:
        if self.scanner is not None:
            self.scanner.resume()

    def handle_codes(self, texts: list[str]) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _camera_failed(self, exc: BaseException) -> None:
        Clock.schedule_once(lambda _dt: self._show_camera_error(exc))

    def _show_camera_error(self, exc: BaseException) -> None:
        app = App.get_running_app()
        # The reason (a path, a driver message) is in English: it goes to the log, the screen
        # says it in the officer's language.
        logging.getLogger(__name__).warning("camera failed: %s", exc)
        self.camera_error = app.tr("scan_no_camera")
