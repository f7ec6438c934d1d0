"""Server-rendered charts: no JavaScript, no chart library, readable on paper and under a strict CSP.

Sizes are real CSS pixels at every width: the SVG has no viewBox (bars are placed in percent), so its text
is never scaled down to a few pixels on a phone; legends and the verdict mix are HTML text. Nothing uses a
style attribute (the console's CSP allows only its own stylesheet). Labels are escaped; the markup is built
here only from numbers and escaped text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#b35c00", "#2e7d4f", "#6b4fa8", "#4d5966", "#8a6d00", "#2f7f8f", "#a3366b")

# A verdict's colour follows its meaning, never its rank: approved green, refusals in the red/orange family
# (forgery red, a pass's own state orange, missing trust data brown). Each bar also carries its words and a
# mark (✓/✗), and refusals are hatched, so colour is never the only cue.
VERDICT_FAMILY = {
    "ok": "approved",
    "valid": "approved",
    "bad_signature": "forged",
    "unknown_key": "forged",
    "key_compromised": "forged",
    "bad_encoding": "forged",
    "not_ours": "foreign",
    "revoked": "state",
    "expired": "state",
    "not_yet_valid": "state",
    "key_retired": "state",
}
PLOT_HEIGHT, TOP, BOTTOM = 150, 22, 26


def stacked_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[int]],
    *,
    title: str,
    peak_text: Callable[[int], str] = str,
) -> Markup:
    """One bar per label, stacked by series (e.g. hours x stations), with an HTML legend.

    On narrow screens every third axis label is kept (the others carry the `minor` class the stylesheet
    hides), so labels never overlap."""
    count = max(len(labels), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    step = 100 / count
    base = TOP + PLOT_HEIGHT
    parts = [
        f'<svg class="chart" role="img" width="100%" height="{base + BOTTOM}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="0" y1="{TOP}" x2="100%" y2="{TOP}" class="grid"/>',
        f'<text x="0" y="{TOP - 6}" class="axis">{escape(peak_text(peak))}</text>',
        f'<line x1="0" y1="{base}" x2="100%" y2="{base}" class="base"/>',
    ]
    for i, label in enumerate(labels):
        y = float(base)
        for colour, values in zip(PALETTE * 8, series.values(), strict=False):
            value = values[i]
            if value <= 0:
                continue
            bar = value / peak * PLOT_HEIGHT
            y -= bar
            parts.append(
                f'<rect x="{i * step + step * 0.08:.3f}%" y="{y:.1f}" width="{step * 0.84:.3f}%" '
                f'height="{bar:.1f}" fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
            )
        minor = " minor" if count > 8 and i % 3 else ""
        centre = i * step + step / 2
        parts.append(f'<text x="{centre:.3f}%" y="{base + 18}" class="label{minor}">{escape(label)}</text>')
    parts.append("</svg>")
    if series:
        parts.append('<ul class="legend">')
        for name, colour in zip(series, PALETTE * 8, strict=False):
            parts.append(
                f'<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
                f'fill="{colour}"/></svg>{escape(name)}</li>'
            )
        parts.append("</ul>")
    return Markup("".join(parts))


def verdict_bars(values: dict[str, int], *, title: str, t: Callable[..., str]) -> Markup:
    """The verdict mix as a table: the verdict in words, a bar coloured by meaning, count and share.

    `t` is the page's translator (hub/console/i18n.py); an unknown reason still gets words, never a code."""
    total = sum(values.values()) or 1
    peak = max(values.values(), default=0) or 1
    ordered = sorted(values.items(), key=lambda item: (VERDICT_FAMILY.get(item[0]) != "approved", -item[1]))
    parts = [
        '<svg width="0" height="0" class="defs" aria-hidden="true"><defs>'
        '<pattern id="refusal-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="2" height="6" fill="#fff" fill-opacity=".5"/></pattern>'
        "</defs></svg>",
        f'<table class="verdicts"><caption class="visually-hidden">{escape(title)}</caption><tbody>',
    ]
    for code, value in ordered:
        family = VERDICT_FAMILY.get(code, "trust")
        words = t(f"verdict.{code}")
        if words == f"verdict.{code}":
            words = t("verdict.other", reason=code)
        approved = family == "approved"
        mark = "✓" if approved else "✗"
        state = t("chart.approved") if approved else t("chart.refused")
        width = f"{value / peak:.1%}"
        hatch = "" if approved else f'<rect width="{width}" height="18" fill="url(#refusal-hatch)"/>'
        parts.append(
            f'<tr class="verdict-{family}"><th scope="row">'
            f'<span class="mark" aria-hidden="true">{mark}</span> '
            f'{escape(words)}<span class="visually-hidden">（{escape(state)}）</span></th>'
            f'<td class="bar"><svg width="100%" height="18" aria-hidden="true">'
            f'<rect width="{width}" height="18" class="fill"/>{hatch}</svg></td>'
            f'<td class="num">{value}<span class="share">（{value / total:.0%}）</span></td></tr>'
        )
    parts.append("</tbody></table>")
    return Markup("".join(parts))
