"""Verdict: the whole screen green with a check mark and 核准通行, or red with a cross and 不予通行.

Shape and words carry the verdict as much as colour does (colour-blind officers, glare), and the
reason is spelled out. The texts are functions of (language, outcome) so a language switch redraws.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from checkpoint_app.taipei import taipei_text
from checkpoint_app.ui import i18n, load_kv

APPROVED_RGBA = (0.0, 0.42, 0.16, 1)  # dark green: white text keeps > 7:1 contrast in sunlight
REFUSED_RGBA = (0.70, 0.0, 0.0, 1)
NEUTRAL_RGBA = (0.15, 0.15, 0.17, 1)


def _when(epoch: float | None) -> str:
    return taipei_text(epoch)


class VerdictIcon(Widget):
    """A check mark or a cross in a ring, drawn (not a glyph), so it shows with any font."""

    ok = BooleanProperty(True)
    stroke = NumericProperty(8)


class VerdictScreen(Screen):
    def colour(self, outcome: Any) -> tuple[float, float, float, float]:
        if outcome is None:
            return NEUTRAL_RGBA
        return APPROVED_RGBA if outcome.ok else REFUSED_RGBA

    def word(self, lang: str, outcome: Any) -> str:
        if outcome is None:
            return ""
        return i18n.tr("verdict_ok", lang) if outcome.ok else i18n.tr("verdict_refused", lang)

    def reason(self, lang: str, outcome: Any) -> str:
        if outcome is None or outcome.ok:
            return ""  # "核准通行" again would only repeat the big word
        return i18n.pick(outcome.reason_text_zh, outcome.reason_text_en, lang)

    def details(self, lang: str, outcome: Any) -> str:
        if outcome is None:
            return ""
        lines: list[str] = []
        if outcome.holder_name:
            lines.append(i18n.tr("verdict_holder", lang, name=outcome.holder_name))
        if outcome.masked_national_id:
            lines.append(i18n.tr("verdict_id", lang, masked=outcome.masked_national_id))
        if outcome.org_name:
            lines.append(i18n.tr("verdict_org", lang, org=outcome.org_name))
        if outcome.kind:
            lines.append(i18n.tr("verdict_kind", lang, kind=self._kind(outcome.kind, lang)))
        if outcome.valid_until:
            lines.append(i18n.tr("verdict_valid_until", lang, when=_when(outcome.valid_until)))
        if outcome.trust_age_s is not None:
            lines.append(i18n.tr("verdict_trust_age", lang, age=i18n.age_text(outcome.trust_age_s, lang)))
        return "\n".join(lines)

    def stale_text(self, lang: str, outcome: Any) -> str:
        return i18n.tr("verdict_stale", lang) if outcome is not None and outcome.stale else ""

    @staticmethod
    def _kind(kind: str, lang: str) -> str:
        key = f"kind_{kind}"
        return i18n.tr(key, lang) if key in i18n.keys() else kind


load_kv(__file__)
