"""One language at a time (issue 10): in English, a refused enrolment (a hub error), an officer
who is not on the roster, a wrong SMS code and a mistyped one leave no Chinese on screen; in
zh-TW they leave no English words. The app runs against a real hub (tests/checkpoint_app/livehub.py).
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.checkpoint_app.ui import ui_support
from tests.checkpoint_app.ui.test_ui_flow import live_hub, road_cam  # noqa: F401 - a fixture

pytestmark = pytest.mark.display

x_display = ui_support.x_display
run_app = ui_support.run_app

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Not words of a language: the code prefix an officer may see printed, the QR code's name, the
# language switch (it names the *other* language in that language, so it can always be found).
ZH_ALLOWED = {"CPE", "QR", "Code", "English", "SMS"}
EN_ALLOWED_CJK = {"中文"}


def _forged_token(enrolment_text: str) -> str:
    """The hub's own enrolment text with a token it never issued: the hub must refuse it."""
    raw = enrolment_text[len("CPE1:") :]
    data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    data["token"] = "never-issued-" + "x" * 20
    return "CPE1:" + base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _steps(hub, lang: str) -> list[dict]:
    from tests.checkpoint_app.livehub import OFFICER_MOBILE, OFFICER_NAME

    station = hub.add_station_with_officer()
    real = hub.enrolment_text(station)
    messages = []

    def say(screen: str, name: str) -> list[dict]:
        messages.append(name)
        return [
            {"do": "wait_idle"},
            {"do": "record", "screen": screen, "ids": ["message"], "as": name},
            {"do": "screen_texts", "as": f"{name}_screen"},
        ]

    steps = [
        {"do": "wait_screen", "name": "enrol"},
        {"do": "type", "screen": "enrol", "id": "enrol_text", "text": _forged_token(real)},
        {"do": "press", "screen": "enrol", "id": "enrol_button"},
        *say("enrol", "hub_error"),
        {"do": "type", "screen": "enrol", "id": "enrol_text", "text": real},
        {"do": "press", "screen": "enrol", "id": "enrol_button"},
        {"do": "wait_screen", "name": "login"},
        {"do": "type", "screen": "login", "id": "name", "text": "王不在"},
        {"do": "type", "screen": "login", "id": "mobile", "text": "0987654321"},
        {"do": "press", "screen": "login", "id": "send_code"},
        *say("login", "unknown_officer"),
        {"do": "type", "screen": "login", "id": "name", "text": OFFICER_NAME},
        {"do": "type", "screen": "login", "id": "mobile", "text": OFFICER_MOBILE},
        {"do": "press", "screen": "login", "id": "send_code"},
        *say("login", "code_sent"),
        {"do": "type", "screen": "login", "id": "code", "text": "000000"},
        {"do": "press", "screen": "login", "id": "verify"},
        *say("login", "wrong_code"),
        {"do": "type", "screen": "login", "id": "code", "text": "12345"},
        {"do": "press", "screen": "login", "id": "verify"},
        *say("login", "short_code"),
    ]
    return steps


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_language_on_every_refusal(run_app, tmp_path, live_hub, lang):  # noqa: F811
    args = ["--camera", road_cam(tmp_path), "--data", str(tmp_path / "device"), "--lang", lang]
    result = run_app(_steps(live_hub, lang), args, timeout=120.0)
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    shown = {name: records[name]["message"] for name in records if not name.endswith("_screen")}
    expected = {
        "en": {
            "hub_error": "Enrolment failed: the hub refused this enrolment code (used or expired)",
            "wrong_code": "Login failed: login refused: wrong or expired code",
            "short_code": "Please check the input: the SMS code is exactly 6 digits",
        },
        "zh": {
            "hub_error": "註冊失敗：管理中心拒絕此註冊碼（已使用或已過期）",
            "wrong_code": "登入失敗：驗證碼錯誤或已過期",
            "short_code": "輸入有誤：簡訊驗證碼為 6 位數字",
        },
    }[lang]
    for name, text in expected.items():
        assert shown[name] == text, name
    # The hub does not tell an unknown officer apart (it must not say who is on a roster): both
    # are told the same, with when the SMS comes if they are on it and whom to ask if it does not.
    assert shown["unknown_officer"] == shown["code_sent"]
    when_whom = {
        "zh": ("1分鐘內", "5分鐘內有效", "所屬分局的管理者"),
        "en": ("within 1 minute", "5 minutes", "administrator"),
    }
    assert all(words in shown["code_sent"] for words in when_whom[lang])
    for name, texts in records.items():
        everything = texts if isinstance(texts, list) else [texts["message"]]
        for text in everything:
            if lang == "en":
                assert not CJK.search(text) or text in EN_ALLOWED_CJK, (name, text)
            else:
                assert set(LATIN_WORD.findall(text)) <= ZH_ALLOWED, (name, text)
