"""The UI's word table: both languages everywhere, same placeholders, sane language selection."""

from __future__ import annotations

import string

import pytest

from checkpoint_app import errors
from checkpoint_app.ui import i18n


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(i18n.keys()))
def test_every_string_has_both_languages_with_the_same_placeholders(key):
    zh, en = i18n.tr(key, "zh"), i18n.tr(key, "en")
    assert zh.strip() and en.strip()
    assert placeholders(zh) == placeholders(en)
    if key == "lang_switch":  # the switch names the language it switches *to*
        assert (zh, en) == ("English", "中文")
        return
    assert zh != en
    assert any("\u4e00" <= c <= "\u9fff" for c in zh), f"{key}: the Chinese text has no Chinese"


def test_the_verdict_words_are_the_seeds():
    assert i18n.tr("verdict_ok", "zh") == "核准通行"
    assert i18n.tr("verdict_refused", "zh") == "不予通行"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zh-TW", "zh"),
        ("zh_Hant", "zh"),
        ("EN", "en"),
        ("en-US", "en"),
        ("fr", "zh"),
        ("", "zh"),
        (None, "zh"),
    ],
)
def test_normalise_language(value, expected):
    assert i18n.normalise_language(value) == expected


def test_flag_wins_over_environment(monkeypatch):
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert i18n.initial_language(None) == "en"
    assert i18n.initial_language("zh") == "zh"
    monkeypatch.delenv(i18n.LANG_ENV)
    assert i18n.initial_language(None) == "zh"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (None, "—", "—"),
        (5, "5 秒", "5 s"),
        (600, "10 分鐘", "10 min"),
        (3 * 3600, "3 小時", "3 h"),
        (3 * 86400, "3 天", "3 d"),
        (-4, "0 秒", "0 s"),
    ],
)
def test_age_text(seconds, zh, en):
    assert (i18n.age_text(seconds, "zh"), i18n.age_text(seconds, "en")) == (zh, en)


@pytest.mark.parametrize(
    ("exc", "zh_start"),
    [
        (errors.HubUnavailableError("connect failed"), "無法連線"),
        (errors.LoginError("not on the duty roster"), "登入失敗：not on the duty roster"),
        (errors.EnrolmentError("token used"), "註冊失敗：token used"),
        (errors.InputError("mobile number"), "輸入有誤：mobile number"),
        (errors.NoOfficerError("x"), "請先登入"),
        (RuntimeError("boom"), "發生錯誤：boom"),
    ],
)
def test_error_text_names_the_failed_step(exc, zh_start):
    assert i18n.error_text(exc, "zh").startswith(zh_start)
    assert i18n.error_text(exc, "en")
