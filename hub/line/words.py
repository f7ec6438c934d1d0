"""What the LINE chat says, from the one message catalogue (hub.i18n, docs/i18n.md), keys under `line.`.

LINE tells the webhook no language, so the chat speaks the city's first language, zh-TW; every text has
its English beside it in the catalogue, for a caller that knows the person's language to pass."""

from __future__ import annotations

from hub.i18n import catalogue

CHAT_LANGUAGE = catalogue.DEFAULT_LANGUAGE


def t(key: str, language: str = CHAT_LANGUAGE, **values: object) -> str:
    """The chat's text for `key`, its `{placeholders}` filled from `values`."""
    return catalogue.text(language, key, **values)


def words_of(key: str) -> frozenset[str]:
    """Words a person may type for one thing, `|`-separated under `key`, in every language of the
    catalogue: a person who types the English word is understood too."""
    return frozenset(
        word.strip() for language in catalogue.LOCALES for word in t(key, language).split("|") if word.strip()
    )
