"""The dashboard charts: verdicts in words of the page's language, coloured by meaning, never by rank; text
that keeps its size on a phone (no viewBox scaling, no style attributes under the console's CSP)."""

from __future__ import annotations

import re
from functools import partial

from hub.console import charts, i18n

MIX = {"bad_signature": 7, "ok": 5, "not_ours": 3, "revoked": 2, "mystery": 1}


def _rows(html: str) -> dict[str, str]:
    """Row family (the colour class) -> the row's visible words."""
    rows = re.findall(r'<tr class="verdict-(\w+)"><th scope="row">(.*?)</th>', html)
    return {re.sub(r"<[^>]+>", "", words).strip(): family for family, words in rows}


def test_verdicts_are_words_in_zh_tw_and_coloured_by_meaning() -> None:
    html = str(charts.verdict_bars(MIX, title="查驗結果", t=partial(i18n.translate, "zh-TW")))
    rows = _rows(html)
    assert rows == {
        "✓ 核准通行（通過）": "approved",
        "✗ 簽章不符（拒絕）": "forged",
        "✗ 非本系統通行碼（拒絕）": "foreign",
        "✗ 通行碼已註銷（拒絕）": "state",
        "✗ 不予通行（mystery）（拒絕）": "trust",
    }
    # Approved first whatever its count; each refusal is hatched so colour is not the only cue.
    assert list(rows)[0].startswith("✓ 核准通行")
    assert html.count('fill="url(#refusal-hatch)"') == 4
    for code in ("ok", "bad_signature", "not_ours"):
        assert f">{code}<" not in html and f" {code}<" not in html
    assert '<td class="num">7<span class="share">（39%）</span>' in html  # 7 of 18


def test_verdicts_in_english() -> None:
    html = str(
        charts.verdict_bars({"ok": 1, "bad_signature": 1}, title="Mix", t=partial(i18n.translate, "en"))
    )
    assert set(_rows(html)) == {"✓ Pass approved（approved）", "✗ Signature invalid（refused）"}


def test_the_css_colours_approved_green_and_refusals_red_or_orange() -> None:
    css = open("hub/console/static/console.css", encoding="utf-8").read()
    colours = dict(re.findall(r"tr\.verdict-(\w+) \.fill \{ fill: (#[0-9a-f]{6}); \}", css))
    red, green, blue = (int(colours["approved"][i : i + 2], 16) for i in (1, 3, 5))
    assert green > red and green > blue
    for family in ("forged", "foreign", "state"):
        r, g, b = (int(colours[family][i : i + 2], 16) for i in (1, 3, 5))
        assert r > g > b, family  # red to orange: red leads, blue least


def test_stacked_bars_keep_real_text_sizes_and_thin_labels_on_phones() -> None:
    hours = [f"{h:02d}" for h in range(24)]
    html = str(
        charts.stacked_bars(hours, {"板橋分局": [1] * 24, "<b>": [2] * 24}, title="每小時", peak_text=str)
    )
    assert "viewBox" not in html and "style=" not in html
    assert html.count('class="label minor"') == 16 and html.count('class="label"') == 8
    assert "<li>" in html and "&lt;b&gt;" in html and "<b>" not in html
