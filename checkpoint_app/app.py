"""The Kivy app: a ScreenManager over the screens in checkpoint_app/ui, driven by CheckpointService.

The widgets stay thin: every decision (is this pass valid, may this officer scan, what is queued)
is the service's. The app adds what only a UI has: where the camera frames go, which screen
shows, the language, and running network calls off the UI thread.

Import this module only after Kivy may create a window (`checkpass checkpoint` does it lazily).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import FadeTransition, ScreenManager

from checkpoint_app.service import CheckpointConfig, CheckpointService
from checkpoint_app.taipei import taipei_text
from checkpoint_app.ui import i18n
from checkpoint_app.ui.fonts import register_fonts
from checkpoint_app.ui.live_scan import FrameSource, RepeatFilter
from checkpoint_app.ui.sounds import VerdictSounds
from checkpoint_app.ui.taps import SteadyButton, SteadyScreenManager
from checkpoint_app.ui.torch import Torch, platform_torch

UI_DIR = Path(__file__).resolve().parent / "ui"
# A folder given as the camera plays one image per this many seconds (a pass held up, then the
# next car): long enough for a verdict, short enough for a demo.
FILE_CAMERA_HOLD_S = 2.0


@dataclass(frozen=True)
class AppOptions:
    data_dir: Path
    camera: str = "0"  # "N" (OpenCV camera index) or "file:PATH"
    file_hold_s: float = FILE_CAMERA_HOLD_S
    hub_url: str | None = None
    lang: str = i18n.DEFAULT_LANGUAGE
    stale_policy: str = "flag"
    status_poll_s: float = 2.0


class CheckpointApp(App):
    lang = StringProperty(i18n.DEFAULT_LANGUAGE)
    online = BooleanProperty(False)
    enrolled = BooleanProperty(False)
    queued = NumericProperty(0)
    officer_label = StringProperty("")
    busy = BooleanProperty(False)
    torch_on = BooleanProperty(False)
    # The outcome on the verdict / ID check screens; kept in memory only for as long as it is shown.
    outcome = ObjectProperty(None, allownone=True)

    def __init__(self, options: AppOptions, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options
        self.service: CheckpointService | None = None  # before `lang`: its observer reads it
        self.lang = i18n.normalise_language(options.lang)
        self.camera_spec = options.camera
        # One clock for every file camera this app opens: the folder keeps playing across scans.
        self.camera_epoch = time.monotonic()
        self.sounds = VerdictSounds()
        self.torch: Torch = platform_torch()
        # Shared by every scanner this app starts, so a pass still held up after the verdict
        # screen is not logged twice.
        self.repeats = RepeatFilter()
        self.title = i18n.tr("app_title", self.lang)

    # -- language ------------------------------------------------------------------------------------
    def tr(self, key: str, lang: str | None = None, **values: object) -> str:
        """kv rules call `app.tr('key', app.lang)` so that they re-evaluate when the language changes."""
        return i18n.tr(key, lang or self.lang, **values)

    def pick(self, zh: str, en: str, lang: str | None = None) -> str:
        return i18n.pick(zh, en, lang or self.lang)

    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def on_lang(self, _instance: object, value: str) -> None:
        self.title = i18n.tr("app_title", value)
        self._refresh_officer_label()

    # -- building ------------------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        register_fonts()
        Window.clearcolor = (0.08, 0.09, 0.11, 1)
        self.service = CheckpointService(
            CheckpointConfig(
                data_dir=self.options.data_dir,
                hub_url=self.options.hub_url,
                stale_policy=self.options.stale_policy,  # type: ignore[arg-type]
            )
        )
        self.enrolled = self.service.is_enrolled()  # before the first frame draws the badge
        self.sounds.load()

        # Imported here: the screen modules register kv rules and need the font in place first.
        from checkpoint_app.ui.enrol_screen import EnrolScreen
        from checkpoint_app.ui.history_screen import HistoryScreen
        from checkpoint_app.ui.id_card_screen import IdCardScreen
        from checkpoint_app.ui.idcheck_screen import IdCheckScreen
        from checkpoint_app.ui.login_screen import LoginScreen
        from checkpoint_app.ui.scan_screen import ScanScreen
        from checkpoint_app.ui.sync_screen import SyncScreen
        from checkpoint_app.ui.verdict_screen import VerdictScreen

        Factory.register("SteadyButton", cls=SteadyButton)
        Builder.load_file(str(UI_DIR / "widgets.kv"))
        manager = SteadyScreenManager(transition=FadeTransition(duration=0.12))
        screens = [
            EnrolScreen(name="enrol"),
            LoginScreen(name="login"),
            ScanScreen(name="scan"),
            VerdictScreen(name="verdict"),
            IdCheckScreen(name="idcheck"),
            IdCardScreen(name="id_card"),
            HistoryScreen(name="history"),
            SyncScreen(name="sync"),
        ]
        # The first screen added is entered at once: make it the right one, so no other screen
        # opens the camera for a moment at start-up.
        home = self.home_screen()
        screens.sort(key=lambda screen: screen.name != home)
        for screen in screens:
            manager.add_widget(screen)
        return manager

    def home_screen(self) -> str:
        """Where the app belongs now: enrol first, then an officer login, then scanning."""
        assert self.service is not None
        if not self.service.is_enrolled():
            return "enrol"
        if self.service.officer() is None:
            return "login"
        return "scan"

    def go(self, name: str) -> None:
        if self.root is not None and self.root.current != name:
            self.root.current = name

    def go_home(self) -> None:
        self.go(self.home_screen())

    def on_start(self) -> None:
        assert self.service is not None
        self.service.start_sync()
        self.refresh_status()
        Clock.schedule_interval(lambda _dt: self.refresh_status(), self.options.status_poll_s)

    def on_stop(self) -> None:
        if self.root is not None:
            for screen in self.root.screens:
                stop = getattr(screen, "stop_camera", None)
                if stop is not None:
                    stop()
        if self.torch.on:
            self.torch.set(False)
        if self.service is not None:
            self.service.close()

    # -- shared state for the top bars ---------------------------------------------------------------
    def refresh_status(self) -> None:
        if self.service is None:
            return
        status = self.service.sync_status()
        self.enrolled = self.service.is_enrolled()
        self.online = status.online
        self.queued = status.queued
        self._refresh_officer_label()

    def _refresh_officer_label(self) -> None:
        session = self.service.officer() if self.service is not None else None
        if session is None:
            self.officer_label = ""
            return
        until = taipei_text(session.expires_at, "%H:%M")
        self.officer_label = i18n.tr("scan_officer", self.lang, name=session.name_masked, until=until)

    # -- camera and torch ----------------------------------------------------------------------------
    def open_camera(self) -> FrameSource:
        from checkpoint_app.frames import open_source

        return open_source(self.camera_spec, hold_s=self.options.file_hold_s, epoch=self.camera_epoch)

    def toggle_torch(self) -> bool:
        self.torch_on = self.torch.toggle()
        return self.torch_on

    # -- work off the UI thread ----------------------------------------------------------------------
    def run_background(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        """Run a blocking call (network, disk) on a thread; its result comes back on the UI thread."""
        self.busy = True

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            self.busy = False
            callback(value)

        def runner() -> None:
            try:
                result = work()
            except Exception as exc:  # shown on screen by `failed`; the UI never crashes on it
                Clock.schedule_once(lambda _dt, e=exc: finish(failed, e))
            else:
                Clock.schedule_once(lambda _dt, r=result: finish(done, r))

        threading.Thread(target=runner, name="checkpoint-ui-work", daemon=True).start()

    def error_text(self, exc: BaseException) -> str:
        return i18n.error_text(exc, self.lang)

    # -- verdicts ------------------------------------------------------------------------------------
    def show_outcome(self, outcome: Any) -> None:
        """Called on the UI thread once the outcome is durably in the outbox."""
        self.outcome = outcome
        self.go("verdict")
        self.sounds.play(bool(outcome.ok))
        self.refresh_status()

    def next_scan(self) -> None:
        self.outcome = None  # the holder's name leaves memory with the screen
        self.go_home()
