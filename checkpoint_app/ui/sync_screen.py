"""Sync status: how much waits to be uploaded, when the hub was last reached, how old trust data is."""

from __future__ import annotations

import time
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from checkpoint_app.models import SyncStatus
from checkpoint_app.taipei import taipei_text
from checkpoint_app.ui import i18n, load_kv


def status_lines(status: SyncStatus | None, lang: str, now: float) -> list[str]:
    if status is None:
        return []
    last = (
        taipei_text(status.last_sync_at, "%H:%M:%S") + f" ({i18n.age_text(now - status.last_sync_at, lang)})"
        if status.last_sync_at
        else i18n.tr("sync_never", lang)
    )
    lines = [
        i18n.tr("sync_online", lang) if status.online else i18n.tr("sync_offline", lang),
        i18n.tr("sync_queued", lang, count=status.queued),
        i18n.tr("sync_parked", lang, count=status.parked),
        i18n.tr("sync_last", lang, when=last),
        i18n.tr("sync_trust_age", lang, age=i18n.age_text(status.trust_age_s, lang))
        if status.trust_age_s is not None
        else i18n.tr("sync_trust_unknown", lang),
    ]
    if status.last_error:
        # The stored error is the core's English text (it is in the log too): the screen says
        # only that the last round failed, in the officer's language.
        lines.append(i18n.tr("sync_error", lang))
    return lines


class SyncScreen(Screen):
    status = ObjectProperty(None, allownone=True)
    message = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event: Any = None

    def on_pre_enter(self, *_args: Any) -> None:
        self.message = ""
        self.reload()
        self._event = Clock.schedule_interval(lambda _dt: self.reload(), 1.0)

    def on_leave(self, *_args: Any) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def reload(self) -> None:
        self.status = App.get_running_app().service.sync_status()

    def text(self, lang: str, status: SyncStatus | None) -> str:
        return "\n".join(status_lines(status, lang, time.time()))

    def sync_now(self) -> None:
        app = App.get_running_app()
        self.message = app.tr("working")
        app.run_background(app.service.sync_now, self._synced, self._failed)

    def _synced(self, report: Any) -> None:
        app = App.get_running_app()
        self.message = (
            app.tr("sync_done", uploaded=report.uploaded) if report.online else app.tr("error_offline")
        )
        self.reload()
        app.refresh_status()

    def _failed(self, exc: BaseException) -> None:
        self.message = App.get_running_app().error_text(exc)
        self.reload()


load_kv(__file__)
