"""The hub's view of the message catalogue: the shared reader (the top-level `catalogue` package, which the
checkpoint app reads too) and what only the hub needs, the language a REST client asks for.
"""

from __future__ import annotations

from catalogue import DEFAULT_LANGUAGE, DOMAIN, LOCALE_DIR, LOCALES, has, messages, normalise, po_path, text

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LOCALE_DIR",
    "LOCALES",
    "from_accept_language",
    "has",
    "messages",
    "normalise",
    "po_path",
    "text",
]


def from_accept_language(header: str | None) -> str:
    """The language a REST client asked for (`Accept-Language`, RFC 9110 weights); zh-TW unless English
    is preferred to Chinese."""
    best: tuple[float, str] | None = None
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag.startswith(("en", "zh")):
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, tag)
    return normalise(best[1]) if best else DEFAULT_LANGUAGE
