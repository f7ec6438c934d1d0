"""History of this shift: time, verdict word, reason, masked holder, upload state (newest first)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ListProperty
from kivy.uix.screenmanager import Screen

from checkpoint_app.models import ScanRecord
from checkpoint_app.taipei import taipei_text
from checkpoint_app.ui import i18n, load_kv


def history_rows(records: list[ScanRecord], lang: str) -> list[dict[str, Any]]:
    """RecycleView data for the records; only masked personal data reaches the list."""
    rows = []
    for record in records:
        verdict = i18n.tr("verdict_ok", lang) if record.ok else i18n.tr("verdict_refused", lang)
        reason = "" if record.ok else i18n.pick(record.reason_text_zh, record.reason_text_en, lang)
        who = " ".join(
            p for p in (record.holder_name_masked, record.masked_national_id, record.org_name) if p
        )
        state_key = f"history_state_{record.state}"
        state = i18n.tr(state_key, lang) if state_key in i18n.keys() else record.state
        rows.append(
            {
                "time_text": taipei_text(record.scanned_at, "%H:%M:%S"),
                "verdict_text": verdict,
                "detail_text": " · ".join(p for p in (reason, who) if p) or "—",
                "state_text": state,
                "ok": record.ok,
            }
        )
    return rows


class HistoryScreen(Screen):
    rows = ListProperty([])

    def on_pre_enter(self, *_args: Any) -> None:
        self.reload()

    def reload(self) -> None:
        app = App.get_running_app()
        self.rows = history_rows(app.service.history(), app.lang)


load_kv(__file__)
