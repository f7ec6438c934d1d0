"""The console's words: Traditional Chinese (zh-TW) by default, English by a switch (a cookie).

The words live in the message catalogue (catalogue/locale, read through `hub.i18n.catalogue`; docs/i18n.md);
a key the catalogue lacks shows as itself, which tests/hub/test_i18n_catalogue.py catches.
"""

from __future__ import annotations

from hub.i18n import catalogue, refusals

LANGUAGES = ("zh-TW", "en")
DEFAULT_LANGUAGE = "zh-TW"


def translate(language: str, key: str, **values: object) -> str:
    return catalogue.text(language, key, **values)


def has(key: str) -> bool:
    return catalogue.has(key)


duration = refusals.duration  # "2 小時", "45 分鐘"


def queue_lag(language: str, waiting: int | None, oldest_age_s: int | None) -> str:
    """A device's upload queue in words: "3 筆待傳，最舊 2 小時", "無待傳", or "未回報" (an older app)."""
    if waiting is None:
        return translate(language, "devices.not_reported")
    if waiting == 0:
        return translate(language, "devices.queue_empty")
    age = duration(language, oldest_age_s or 0)
    return translate(language, "devices.queue_lag", waiting=waiting, age=age)
