"""The message catalogue every front end and the checkpoint app read: a key and a language in, the text out.

One gettext catalogue managed with Babel (catalogue/locale/{zh_TW,en}/LC_MESSAGES/messages.po;
docs/i18n.md). It sits beside the hub and the app rather than in either, because the app is packaged alone
(buildozer.spec ships checkpoint_app/, crypto/ and this package) and neither side may import the other.

The .po files are read with Babel's own reader at first use, so there is no compile step between editing a
translation and seeing it, and both languages are always loaded (a page or a screen switches language live).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
LOCALES = {"zh-TW": "zh_TW", "en": "en"}  # the language a person picks -> the catalogue's locale
DEFAULT_LANGUAGE = "zh-TW"


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def messages(language: str) -> dict[str, str]:
    """Every translated message of `language` (zh-TW or en), key -> text; empty translations left out."""
    with po_path(LOCALES[normalise(language)]).open("rb") as handle:
        catalog = read_po(handle)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string}


def normalise(language: str | None) -> str:
    """'zh-TW', 'zh_Hant', 'zh', 'en-GB', 'EN' -> 'zh-TW' | 'en'; anything else is the default (zh-TW)."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return "en" if code == "en" else DEFAULT_LANGUAGE


def has(key: str) -> bool:
    return key in messages(DEFAULT_LANGUAGE)


def text(language: str, key: str, **values: object) -> str:
    """The text of `key` in `language`, its `{placeholders}` filled; a key the catalogue lacks shows as
    itself (tests/hub/test_i18n_catalogue.py fails on any such key used in code or templates)."""
    found = messages(normalise(language)).get(key)
    if found is None:
        return key
    return found.format(**values) if values else found
