"""Server-rendered SVG bar charts: no JavaScript, no chart library, readable on paper and under a strict
CSP. Labels are escaped; the markup is built here only from numbers and escaped text."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#a83232", "#6b4fa8", "#7a7a7a", "#b8860b", "#2f7f8f")


def stacked_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[int]],
    *,
    title: str,
    width: int = 720,
    height: int = 220,
) -> Markup:
    """One bar per label, stacked by series (e.g. hours x stations), with a legend."""
    count = max(len(labels), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    left, bottom, top = 36, 28, 10
    plot_height = height - bottom - top
    step = (width - left - 8) / count
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 18 * ((len(series) + 3) // 4)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="2" y="{top + 8}" class="axis">{peak}</text>',
        f'<text x="2" y="{height - bottom}" class="axis">0</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" class="base"/>',
    ]
    for i, label in enumerate(labels):
        x = left + i * step
        y = height - bottom
        for colour, values in zip(PALETTE * 8, series.values(), strict=False):
            value = values[i]
            if value <= 0:
                continue
            bar = value / peak * plot_height
            y -= bar
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{bar:.1f}" '
                f'fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
            )
        if count <= 14 or i % 3 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 10}" class="label">{escape(label)}</text>'
            )
    for index, (name, colour) in enumerate(zip(series, PALETTE * 8, strict=False)):
        lx, ly = left + (index % 4) * 170, height + 6 + 18 * (index // 4)
        parts.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly + 9}" class="legend">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(values: dict[str, int], *, title: str, width: int = 480) -> Markup:
    """One labelled horizontal bar per key (e.g. the verdict mix), with its count and share."""
    total = sum(values.values()) or 1
    peak = max(values.values(), default=0) or 1
    row = 24
    height = row * max(len(values), 1) + 8
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for index, ((name, value), colour) in enumerate(zip(values.items(), PALETTE * 8, strict=False)):
        y = 4 + index * row
        bar = value / peak * (width - 230)
        parts.append(f'<text x="0" y="{y + 15}" class="label-left">{escape(name)}</text>')
        parts.append(f'<rect x="130" y="{y + 3}" width="{bar:.1f}" height="16" fill="{colour}"/>')
        parts.append(
            f'<text x="{136 + bar:.1f}" y="{y + 15}" class="legend">{value} ({value / total:.0%})</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
