"""The UI's words (the catalogue's checkpoint.*): both languages everywhere, same placeholders, sane
language selection."""

from __future__ import annotations

import string

import pytest

from checkpoint_app import errors
from checkpoint_app.ui import i18n

REFUSALS = sorted(k for k in i18n.keys() if k.startswith("refusal."))


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
        (errors.HubUnavailableError("hub_unreachable"), "無法連線"),
        (errors.LoginError("not_on_roster"), "登入失敗：不在本分局的執勤名冊上"),
        (errors.EnrolmentError("enrol_refused"), "註冊失敗：管理中心拒絕此註冊碼"),
        (errors.InputError("sms_code_digits"), "輸入有誤：簡訊驗證碼為 6 位數字"),
        (errors.NoOfficerError("no_officer"), "請先登入"),
        (errors.CheckpointError("hub_refused", status=500), "發生錯誤：管理中心拒絕了請求（狀態 500）"),
        (RuntimeError("boom"), "發生未預期的錯誤"),
    ],
)
def test_error_text_names_the_failed_step(exc, zh_start):
    assert i18n.error_text(exc, "zh").startswith(zh_start)
    english = i18n.error_text(exc, "en")
    assert english and not any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in english)
    assert "boom" not in english  # an unexpected error's own words go to the log, not the screen


def test_the_core_refusals_are_in_the_catalogue():
    assert len(REFUSALS) >= 40
    assert errors.InputError("sms_code_digits").text("zh") == i18n.tr("refusal.sms_code_digits", "zh")


@pytest.mark.parametrize("key", REFUSALS)
def test_every_core_message_has_both_languages_and_no_mixing(key):
    zh, en = i18n.tr(key, "zh"), i18n.tr(key, "en")
    assert any("\u4e00" <= c <= "\u9fff" for c in zh)
    assert not any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in en)
    assert placeholders(zh) == placeholders(en)


def test_the_sms_code_rule_is_the_hubs_six_digits():
    from checkpoint_app.officer_login import _CODE

    assert _CODE.match("123456") and not _CODE.match("1234") and not _CODE.match("12345678")
