"""The app's words: Traditional Chinese (the officers' language) first, English second.

They live in the message catalogue the hub reads too (the top-level `catalogue` package; docs/i18n.md),
under `checkpoint.`: `tr("enrol_title", lang)` is the catalogue's `checkpoint.enrol_title`. Both languages
are always loaded, and a screen switches language live (the kv rules pass ``app.lang`` so they rebind).
Verdict reasons and the core's refusals are `checkpoint.verdict.*` and `checkpoint.refusal.*`
(`checkpoint_app.reasons`, `checkpoint_app.errors`).
"""

from __future__ import annotations

import os
from functools import cache

import catalogue

LANGUAGES = ("zh", "en")  # the app's own codes (--lang, CHECKPASS_LANG); "zh" is the catalogue's zh-TW
DEFAULT_LANGUAGE = "zh"
LANG_ENV = "CHECKPASS_LANG"
PREFIX = "checkpoint."
ID_CARD = "id_card."  # + the hub's status of an ID-card check: the words the hub's own pages use


def normalise_language(value: str | None) -> str:
    """'zh-TW', 'zh_Hant', 'EN' ... -> 'zh' | 'en'; anything unknown falls back to Chinese."""
    return "en" if catalogue.normalise(value) == "en" else DEFAULT_LANGUAGE


def initial_language(flag: str | None = None) -> str:
    """The --lang flag wins over the environment variable; default Traditional Chinese."""
    return normalise_language(flag or os.environ.get(LANG_ENV))


def tr(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`, formatted with `values`. An unknown key is a programming error
    (tests/checkpoint_app/test_app_catalogue.py finds every key the app's code and kv rules use)."""
    if not catalogue.has(PREFIX + key):
        raise KeyError(f"no message {PREFIX + key!r} in the catalogue")
    return catalogue.text(lang, PREFIX + key, **values)


def pick(zh: str, en: str, lang: str) -> str:
    """Choose between a (zh, en) pair that came from the core (e.g. a verdict reason)."""
    return en if lang == "en" else zh


def id_card_text(status: str, hub_message: str, lang: str) -> str:
    """The hub's answer to an ID-card check in the officer's language, worded from its status by the
    catalogue the hub words it from; a status this app does not know yet keeps the hub's (zh-TW) sentence."""
    key = ID_CARD + status
    return catalogue.text(lang, key) if catalogue.has(key) else hub_message


def age_text(seconds: float | None, lang: str) -> str:
    """A coarse, readable age: '45 秒', '12 分鐘', '3 小時', '2 天'."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return tr("age_seconds", lang, n=seconds)
    if seconds < 2 * 3600:
        return tr("age_minutes", lang, n=seconds // 60)
    if seconds < 2 * 86400:
        return tr("age_hours", lang, n=seconds // 3600)
    return tr("age_days", lang, n=seconds // 86400)


@cache
def keys() -> frozenset[str]:
    """Every key `tr` knows, without the `checkpoint.` prefix."""
    every = catalogue.messages(catalogue.DEFAULT_LANGUAGE)
    return frozenset(k[len(PREFIX) :] for k in every if k.startswith(PREFIX))


def error_text(exc: BaseException, lang: str) -> str:
    """Words for a failed step, all in `lang`: the core's errors carry a message key
    (`checkpoint.refusal.*`); anything else is a defect, named only in the log."""
    import logging

    from checkpoint_app import errors

    if not isinstance(exc, errors.CheckpointError):
        logging.getLogger(__name__).error("unexpected error on screen: %r", exc)
        return tr("error_unexpected", lang)
    detail = exc.text(lang)
    if isinstance(exc, errors.HubUnavailableError):
        return tr("error_offline", lang)
    if isinstance(exc, errors.NoOfficerError):
        return tr("error_no_officer", lang)
    if isinstance(exc, errors.InputError):
        return tr("error_input", lang, detail=detail)
    if isinstance(exc, errors.LoginError):
        return tr("error_login", lang, detail=detail)
    if isinstance(exc, (errors.EnrolmentError, errors.AlreadyEnrolledError)):
        return tr("error_enrol", lang, detail=detail)
    return tr("error_other", lang, detail=detail)
