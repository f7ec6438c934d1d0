"""One tap, one action (issue 15): the app driven with real touches (through the window, the
screen manager and any popup), against a real hub (tests/checkpoint_app/livehub.py).

* Every button tapped twice in quick succession acts once: 註冊, 傳送簡訊驗證碼, 登入, 繼續掃描,
  立即同步, the language switch, 登出.
* The second tap of a double tap on 繼續掃描 lands on the scan screen, where nothing is under it;
  a new verdict that comes up at once is not dismissed by it.
* 登出 asks first: a double tap on it, Enter, the back key and 取消 all leave the officer logged in;
  only a deliberate tap on the confirmation's 登出 logs out.
* Before enrolment the badge says 尚未註冊 (not 離線); the code-sent line says when the SMS comes
  and whom to ask.
"""

from __future__ import annotations

import pytest

from tests.checkpoint_app.ui import ui_support
from tests.checkpoint_app.ui.test_ui_flow import hub_pass, live_hub, road_cam, write_qr  # noqa: F401

pytestmark = pytest.mark.display

x_display = ui_support.x_display
artifacts_dir = ui_support.artifacts_dir
run_app = ui_support.run_app

SETTLE = {"do": "settle", "seconds": 0.7}  # longer than the app's tap guards: a new, deliberate tap


def _state(name: str) -> list[dict]:
    return [{"do": "settle", "seconds": 1.0}, {"do": "record_app", "as": name}]


def test_double_taps_act_once_and_logout_asks(run_app, artifacts_dir, tmp_path, live_hub):  # noqa: F811, PLR0915
    from hub.services.keys import allocate_serial
    from hub.services.trust import revoke_serial
    from hub.sms.dev import read_messages
    from tests.checkpoint_app.livehub import OFFICER_MOBILE, OFFICER_MOBILE_E164, OFFICER_NAME

    station = live_hub.add_station_with_officer()
    kid = live_hub.active_issuer().kid.hex()
    with live_hub.session() as db:
        first, second, revoked = (allocate_serial(db, kid) for _ in range(3))
        revoke_serial(db, kid, revoked)
        db.commit()
    road = road_cam(tmp_path)
    first_cam = write_qr(tmp_path / "first.png", hub_pass(live_hub, first, "陳大明", "A12*5*6*9*"))
    second_cam = write_qr(tmp_path / "second.png", hub_pass(live_hub, second, "林小美", "B22*5*6*9*"))
    revoked_cam = write_qr(tmp_path / "revoked.png", hub_pass(live_hub, revoked, "王小華", "F12*4*6*8*"))
    shots = str(artifacts_dir)
    steps = [
        # Before enrolment: 尚未註冊, not 離線.
        {"do": "wait_screen", "name": "enrol"},
        {"do": "screen_texts", "as": "enrol_texts"},
        {"do": "settle", "seconds": 0.3},
        {"do": "shot", "dir": shots, "name": "taps_1_enrol"},
        {"do": "type", "screen": "enrol", "id": "enrol_text", "text": live_hub.enrolment_text(station)},
        SETTLE,
        {"do": "count_work"},
        {"do": "double_tap", "screen": "enrol", "id": "enrol_button", "as": "gap_enrol"},
        {"do": "wait_screen", "name": "login"},
        *_state("enrolled"),
        {"do": "record_work", "as": "enrol_work"},
        {"do": "record", "screen": "enrol", "ids": ["message"], "as": "enrol_message"},
        {"do": "screen_texts", "as": "login_texts"},
        # 傳送簡訊驗證碼 twice: one SMS, and the line says when it comes and whom to ask.
        {"do": "type", "screen": "login", "id": "name", "text": OFFICER_NAME},
        {"do": "type", "screen": "login", "id": "mobile", "text": OFFICER_MOBILE},
        SETTLE,
        {"do": "count_work"},
        {"do": "double_tap", "screen": "login", "id": "send_code", "as": "gap_send"},
        {"do": "wait_idle"},
        {"do": "settle", "seconds": 1.0},
        {"do": "record_work", "as": "send_work"},
        {"do": "record", "screen": "login", "ids": ["message"], "as": "code_sent"},
        {"do": "layout_check", "min_mm": 12.0, "as": "code_sent_layout"},
        {"do": "shot", "dir": shots, "name": "taps_2_code_sent"},
        # 登入 twice: one login, no refusal of the (used) code after it.
        {
            "do": "sms_code",
            "file": str(live_hub.sms_path),
            "mobile": OFFICER_MOBILE_E164,
            "screen": "login",
            "id": "code",
        },
        {"do": "camera", "spec": road},
        SETTLE,
        {"do": "count_work"},
        {"do": "double_tap", "screen": "login", "id": "verify", "as": "gap_verify"},
        {"do": "wait_screen", "name": "scan"},
        *_state("logged_in"),
        {"do": "record_work", "as": "verify_work"},
        {"do": "record", "screen": "login", "ids": ["message"], "as": "login_message"},
        # 繼續掃描 twice: the second tap lands on the scan screen, where there is only the camera.
        {"do": "camera", "spec": first_cam},
        {"do": "wait_screen", "name": "verdict"},
        {"do": "where", "screen": "verdict", "id": "next_scan", "as": "next_scan"},
        {"do": "camera", "spec": road},
        SETTLE,
        {"do": "double_tap", "screen": "verdict", "id": "next_scan", "as": "gap_next"},
        *_state("after_double_next"),
        # A deliberate tap where 繼續掃描 was, on the scan screen itself.
        {"do": "tap", "at": "next_scan"},
        *_state("tap_where_next_was"),
        # 繼續掃描 twice while the next pass is already in view: its verdict stays up.
        {"do": "camera", "spec": second_cam},
        {"do": "wait_screen", "name": "verdict"},
        {"do": "camera", "spec": revoked_cam},
        SETTLE,
        {"do": "double_tap", "screen": "verdict", "id": "next_scan", "gap": 0.3, "as": "gap_next_pass"},
        {"do": "settle", "seconds": 2.0},
        {"do": "record_app", "as": "next_verdict"},
        {"do": "record", "screen": "verdict", "ids": ["word", "reason"], "as": "next_verdict_words"},
        {"do": "camera", "spec": road},
        {"do": "press", "screen": "verdict", "id": "next_scan"},
        {"do": "wait_screen", "name": "scan"},
        # 立即同步 twice: one round.
        {"do": "press", "screen": "scan", "id": "sync"},
        {"do": "wait_screen", "name": "sync"},
        SETTLE,
        {"do": "count_work"},
        {"do": "double_tap", "screen": "sync", "id": "sync_now", "as": "gap_sync"},
        {"do": "wait_idle"},
        {"do": "settle", "seconds": 1.0},
        {"do": "record_work", "as": "sync_work"},
        {"do": "record", "screen": "sync", "ids": ["message"], "as": "sync_message"},
        {"do": "press", "screen": "sync", "id": "back"},
        {"do": "wait_screen", "name": "scan"},
        # The language switch twice: one switch (not there and back).
        SETTLE,
        {"do": "double_tap", "screen": "scan", "text": "English", "as": "gap_lang"},
        *_state("after_double_lang"),
        {"do": "lang", "value": "zh"},  # back (whether the double tap switched once or, too slow, twice)
        SETTLE,
        # 登出 twice: the confirmation opens and stays; the second tap neither confirms nor cancels.
        {"do": "double_tap", "screen": "scan", "id": "logout", "as": "gap_logout"},
        *_state("double_logout"),
        {"do": "shot", "dir": shots, "name": "taps_3_logout_confirm"},
        {"do": "key", "key": 13},  # Enter: the default choice is 取消
        {"do": "wait_popup", "open": False},
        *_state("after_enter"),
        {"do": "tap", "screen": "scan", "id": "logout"},
        {"do": "wait_popup"},
        SETTLE,
        {"do": "key", "key": 27},  # Escape, and Android's back key
        {"do": "wait_popup", "open": False},
        *_state("after_back"),
        {"do": "tap", "screen": "scan", "id": "logout"},
        {"do": "wait_popup"},
        SETTLE,
        {"do": "tap", "popup": True, "id": "cancel"},
        {"do": "wait_popup", "open": False},
        *_state("after_cancel"),
        # Only a deliberate 登出 in the confirmation logs out (and a double tap on it, once).
        {"do": "tap", "screen": "scan", "id": "logout"},
        {"do": "wait_popup"},
        SETTLE,
        {"do": "double_tap", "popup": True, "id": "confirm"},
        {"do": "wait_screen", "name": "login"},
        *_state("logged_out"),
    ]
    result = run_app(steps, ["--camera", road, "--data", str(tmp_path / "device")], timeout=240.0)
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    # The guards hold for a second tap within their windows; the app's frames stall on a loaded
    # machine and the driver's second tap may come later than a finger's would. What must hold
    # whatever the gap is asserted always; "acted once" where the gap was a double tap's.
    repeat_s, settle_s = result["guards"]["repeat_s"], result["guards"]["settle_s"]
    assert 0.3 <= min(repeat_s, settle_s) and max(repeat_s, settle_s) <= 1.0

    assert "尚未註冊" in records["enrol_texts"] and "離線" not in records["enrol_texts"]
    assert records["enrol_work"] == 1 and records["enrolled"]["enrolled"]
    assert records["enrol_message"]["message"] == "註冊完成"  # not an "already enrolled" refusal
    assert "尚未註冊" not in records["login_texts"]

    sms = [m for m in read_messages(live_hub.sms_path) if m["to"] == OFFICER_MOBILE_E164]
    if records["gap_send"] < repeat_s:
        assert records["send_work"] == 1 and len(sms) == 1
    assert records["code_sent"]["message"] == (
        "驗證碼已傳送。若您的姓名及手機號碼與本分局執勤名冊相符，簡訊將於1分鐘內送達，5分鐘內有效；"
        "未收到請確認姓名與名冊上的寫法相同，或洽所屬分局的管理者。"
    )
    assert records["code_sent_layout"]["problems"] == []

    scanning = {"screen": "scan", "officer": True, "enrolled": True, "lang": "zh", "popup": None}
    assert records["logged_in"]["officer"]
    if records["gap_verify"] < settle_s:
        assert records["verify_work"] == 1 and records["logged_in"] == scanning
        assert records["login_message"]["message"] == ""  # the used code was not sent again

    # Whatever the gap: nothing on the scan screen is where 繼續掃描 was.
    assert records["after_double_next"] == scanning
    assert records["tap_where_next_was"] == scanning
    if records["gap_next_pass"] < settle_s:
        assert records["next_verdict"]["screen"] == "verdict"
        assert records["next_verdict_words"]["word"] == "不予通行"

    if records["gap_sync"] < repeat_s:
        assert records["sync_work"] == 1
    assert records["sync_message"]["message"].startswith("同步完成")

    if records["gap_lang"] < repeat_s:
        assert records["after_double_lang"]["lang"] == "en"

    # 登出 never logs out by itself: a double tap on it, Enter, the back key and 取消 keep the shift.
    assert {**records["double_logout"], "popup": None} == scanning
    if records["gap_logout"] < settle_s:
        assert records["double_logout"]["popup"] == "LogoutConfirm"
    for name in ("after_enter", "after_back", "after_cancel"):
        assert records[name] == scanning, name
    assert records["logged_out"] == {
        "screen": "login",
        "officer": False,
        "enrolled": True,
        "lang": "zh",
        "popup": None,
    }
    # Every pass shown was logged once: no verdict was skipped or doubled by a second tap.
    assert sorted(row["reason"] for row in live_hub.scans()) == ["revoked", "valid", "valid"]
    print("gaps:", {name: value for name, value in records.items() if name.startswith("gap_")})
