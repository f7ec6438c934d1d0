"""Accessibility and small-screen checks shared by the console and LIFF browser tests.

axe-core (through axe-playwright-python) checks WCAG 2.x A/AA rules; a violation of impact serious or
critical fails the test (docs/testing.md lists the accepted minor ones). `layout_problems` finds what axe
does not: a page wider than the screen, a name broken over lines, text squeezed to one character per
line (陳/*/明)."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

_AXE = Axe()

# For every element holding its own text: the text, its length, and how many line boxes it takes.
_SQUEEZED = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if ([...text].length < 2 || !node.parentElement || !node.parentElement.offsetParent) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    // A short CJK word (a name, a station) broken over lines at all, or any text one character per line.
    const shortWord = /^[\u3400-\u9fff*＊]{2,10}$/.test(text);
    if (tops.size >= [...text].length || (shortWord && tops.size > 1)) found.push(text);
  }
  return found;
}"""


def serious_violations(page: Any) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each."""
    results = _AXE.run(page, options=WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(str(n['target']) for n in v['nodes'][:4])}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def layout_problems(page: Any) -> list[str]:
    """The page scrolls sideways, a short name is broken over lines, or text wraps one character per line."""
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    if width > viewport + 1:
        problems.append(f"page is {width} px wide on a {viewport} px screen")
    problems += [f"one character per line: {text!r}" for text in page.evaluate(_SQUEEZED)]
    return problems
