"""The real Kivy app under X (Xvfb in CI), driven through its screens with the file camera.

Each test runs the app in its own process (tests/checkpoint_app/ui/driver.py) and asserts on the
widget texts it recorded; screenshots go to the artifacts folder.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from checkpass_testkit.synthetic import place, qr_image
from tests.checkpoint_app.ui import ui_support

pytestmark = pytest.mark.display

# The fixtures live in ui_support (see its docstring for why not in a conftest.py).
x_display = ui_support.x_display
artifacts_dir = ui_support.artifacts_dir
run_app = ui_support.run_app
core_test_support = ui_support.core_test_support


# Outside Big5, so outside the shipped subset: the glyph check must call these missing.
NOT_IN_FONT = "\U00020000\U0002a6d6"


def ui_text() -> str:
    """Every string the UI can show from the catalogue (checkpoint.*), both languages."""
    import catalogue
    from checkpoint_app.ui import i18n

    # Every checkpoint.* message: the screens' words, the core's refusals, verdict reasons, ID checks;
    # and the hub's ID-card answers, which the app words by status.
    parts = [i18n.tr(key, lang) for key in i18n.keys() for lang in i18n.LANGUAGES]
    answers = [key for key in catalogue.messages("zh-TW") if key.startswith(i18n.ID_CARD)]
    parts += [catalogue.text(lang, key) for key in answers for lang in catalogue.LOCALES]
    parts += ["陳大明王小華林志華新北物流股份有限公司艾斯移動", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"]
    return "".join(parts)


def write_qr(path: Path, text: str) -> str:
    """A camera-like frame (1280x720, cluttered background) with the code on it; returns file:PATH."""
    frame = place(qr_image(text, module_px=6), np.random.default_rng(len(text)))
    assert cv2.imwrite(str(path), frame)
    return f"file:{path}"


def road_cam(directory: Path) -> str:
    """A camera frame with no code in it."""
    path = directory / "road.png"
    cv2.imwrite(str(path), place(np.full((40, 40), 128, np.uint8), np.random.default_rng(9)))
    return f"file:{path}"


def test_scan_valid_then_revoked_offline(run_app, artifacts_dir, tmp_path):
    core = core_test_support()
    world = core.World()
    valid_text, _ = world.make_pass(name="陳大明", masked_id="A12*5*6*9*")
    revoked_text, revoked = world.make_pass(name="王小華", masked_id="F12*4*6*8*")
    world.status.revoke(revoked.serial)
    data = tmp_path / "device"
    core.seed_store(data, world)  # enrolled, trust data cached, an officer logged in
    valid = write_qr(tmp_path / "valid.png", valid_text)
    revoked_cam = write_qr(tmp_path / "revoked.png", revoked_text)
    no_code_cam = road_cam(tmp_path)
    shots = str(artifacts_dir)
    steps = [
        # The app opens on the scan screen and the camera already sees the pass: no wait on "scan",
        # the verdict may be up within one tick of this script.
        {"do": "wait_text", "screen": "verdict", "id": "word", "equals": "核准通行"},
        {"do": "wait_screen", "name": "verdict"},
        {"do": "record", "screen": "scan", "ids": ["officer"], "as": "scan_screen"},
        {
            "do": "record",
            "screen": "verdict",
            "ids": ["word", "reason", "details"],
            "as": "valid",
        },
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "offline_verdict_valid"},
        {"do": "press", "screen": "verdict", "id": "check_id"},
        {"do": "wait_screen", "name": "idcheck"},
        {"do": "type", "screen": "idcheck", "id": "typed_id", "text": "a120506095"},
        {"do": "press", "screen": "idcheck", "id": "check"},
        {"do": "record", "screen": "idcheck", "ids": ["holder", "result"], "as": "idcheck"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "offline_idcheck"},
        {"do": "camera", "spec": revoked_cam},
        {"do": "press", "screen": "idcheck", "id": "next_scan"},
        {"do": "wait_text", "screen": "verdict", "id": "word", "equals": "不予通行"},
        {"do": "wait_screen", "name": "verdict"},
        {
            "do": "record",
            "screen": "verdict",
            "ids": ["word", "reason", "details"],
            "as": "revoked",
        },
        {"do": "record", "screen": "idcheck", "ids": ["typed_id"], "as": "idcheck_after"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "offline_verdict_revoked"},
        {"do": "lang", "value": "en"},
        {"do": "settle", "seconds": 0.2},
        {"do": "record", "screen": "verdict", "ids": ["word", "reason"], "as": "revoked_en"},
        {"do": "shot", "dir": shots, "name": "offline_verdict_revoked_en"},
        {"do": "lang", "value": "zh"},
        {"do": "press", "screen": "verdict", "id": "next_scan"},
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "history"},
        {"do": "wait_screen", "name": "history"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "offline_history"},
        {"do": "record", "screen": "history", "ids": ["empty"], "as": "history"},
        {"do": "press", "screen": "history", "id": "back"},
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "sync"},
        {"do": "wait_screen", "name": "sync"},
        {"do": "settle"},
        {"do": "record", "screen": "sync", "ids": ["status", "offline"], "as": "sync"},
        {"do": "shot", "dir": shots, "name": "offline_sync"},
        {"do": "camera", "spec": no_code_cam},
        {"do": "press", "screen": "sync", "id": "back"},
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "torch"},
        {"do": "record", "screen": "scan", "ids": ["torch", "torch_message", "hint"], "as": "torch"},
        {"do": "settle", "seconds": 0.6},
        {"do": "shot", "dir": shots, "name": "offline_scan"},
        {"do": "record_scanner", "screen": "scan", "as": "scanner"},
        {"do": "glyph_check", "text": ui_text(), "control": NOT_IN_FONT, "as": "glyphs"},
    ]
    result = run_app(steps, ["--camera", valid, "--data", str(data)])
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]

    assert "林*華" in records["scan_screen"]["officer"]  # the officer's masked name from the credential
    assert records["valid"]["word"] == "核准通行"
    assert records["valid"]["reason"] == ""
    assert "陳大明" in records["valid"]["details"] and "A12*5*6*9*" in records["valid"]["details"]
    assert "新北物流股份有限公司" in records["valid"]["details"]
    assert "身分證號與通行碼相符" in records["idcheck"]["result"]
    assert records["idcheck_after"]["typed_id"] == ""  # the typed ID left with the screen

    assert records["revoked"]["word"] == "不予通行"
    assert records["revoked"]["reason"] == "通行碼已註銷"
    assert records["revoked_en"] == {"word": "REFUSED", "reason": "Pass revoked", "_screen": "verdict"}
    assert result["sounds_played"] == [True, False]

    assert records["history"]["empty"] == ""  # two rows, so no "no scans yet"
    assert "待上傳事件：2" in records["sync"]["status"]
    assert records["sync"]["offline"] == "離線"
    # Desktop: OpenCV has no torch control, and the screen says so instead of pretending.
    assert records["torch"]["torch"] == "手電筒：關"
    assert records["torch"]["torch_message"] == "此裝置無法控制手電筒"
    assert records["scanner"]["captured"] > 0 and records["scanner"]["handled"] == 0
    glyphs = records["glyphs"]
    assert glyphs["tofu_is_inked"] and glyphs["control_missing"] == sorted(NOT_IN_FONT)
    assert glyphs["checked"] > 250 and glyphs["missing"] == []
    # The typed ID number was compared, never stored; the holder's name never reached a log.
    for path in data.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert b"A120506095" not in content.upper(), path
    log = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "A120506095" not in log.upper() and "陳大明" not in log and "王小華" not in log
    for name in ("offline_verdict_valid", "offline_verdict_revoked", "offline_history", "offline_sync"):
        assert Path(result["shots"][name]).stat().st_size > 10_000


def test_starts_in_english_with_the_lang_flag(run_app, tmp_path):
    core = core_test_support()
    core.seed_store(tmp_path / "device", core.World())
    steps = [
        {"do": "wait_screen", "name": "scan"},
        {"do": "record", "screen": "scan", "ids": ["officer", "hint", "history", "logout"], "as": "scan"},
        {"do": "press", "screen": "scan", "id": "logout"},
        {"do": "wait_popup"},
        {"do": "record", "popup": True, "ids": ["confirm", "cancel"], "as": "confirm"},
        {"do": "press", "popup": True, "id": "confirm"},
        {"do": "wait_screen", "name": "login"},
        {"do": "record", "screen": "login", "ids": ["send_code", "verify"], "as": "login"},
    ]
    args = ["--camera", road_cam(tmp_path), "--data", str(tmp_path / "device"), "--lang", "en"]
    result = run_app(steps, args)
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    assert records["scan"]["officer"].startswith("On duty: 林*華 until ")
    assert (records["scan"]["hint"], records["scan"]["history"]) == (
        "Hold the pass in the middle of the view",
        "Shift history",
    )
    # Logging out asks first (in English too), then ends scanning: back to the officer login.
    assert records["confirm"] == {
        "_title": "Log out?",
        "confirm": "Log out",
        "cancel": "Cancel",
        "_screen": "scan",
    }
    assert records["login"] == {"send_code": "Send SMS code", "verify": "Log in", "_screen": "login"}


@pytest.fixture
def live_hub(tmp_path):
    from tests.checkpoint_app.livehub import LiveHub

    hub = LiveHub(tmp_path / "hub")
    hub.prepare()
    hub.start()
    yield hub
    hub.close()


def hub_pass(hub, serial: int, name: str, masked_id: str) -> str:
    """A pass signed by the hub's active issuer key, as the hub's pass issuing would make it."""
    import time

    from tests.factories import make_pass

    issuer = hub.active_issuer()
    return make_pass(
        issuer,
        serial=serial,
        now=int(time.time()) - 60,
        valid_for=86460,
        holder_name=name,
        masked_national_id=masked_id,
        org_id="28010606",
    )


def test_enrol_login_scan_valid_then_revoked_against_hub(run_app, artifacts_dir, tmp_path, live_hub):
    from hub.services.keys import allocate_serial
    from hub.services.trust import revoke_serial
    from tests.checkpoint_app.livehub import OFFICER_MOBILE, OFFICER_MOBILE_E164, OFFICER_NAME

    station = live_hub.add_station_with_officer()
    kid = live_hub.active_issuer().kid.hex()
    with live_hub.session() as db:
        valid_serial, revoked_serial = allocate_serial(db, kid), allocate_serial(db, kid)
        revoke_serial(db, kid, revoked_serial)  # revoked on the hub before the device ever syncs
        db.commit()
    enrol_cam = write_qr(tmp_path / "enrol.png", live_hub.enrolment_text(station))
    valid_cam = write_qr(tmp_path / "valid.png", hub_pass(live_hub, valid_serial, "陳大明", "A12*5*6*9*"))
    revoked_cam = write_qr(
        tmp_path / "revoked.png", hub_pass(live_hub, revoked_serial, "王小華", "F12*4*6*8*")
    )
    shots = str(artifacts_dir)
    steps = [
        {"do": "wait_screen", "name": "enrol"},
        {"do": "settle", "seconds": 0.5},
        {"do": "shot", "dir": shots, "name": "hub_1_enrol"},
        # The camera turns to the enrolment QR: the device enrols and moves on to the officer login.
        {"do": "camera", "spec": enrol_cam},
        {"do": "wait_screen", "name": "login"},
        {"do": "type", "screen": "login", "id": "name", "text": OFFICER_NAME},
        {"do": "type", "screen": "login", "id": "mobile", "text": OFFICER_MOBILE},
        {"do": "press", "screen": "login", "id": "send_code"},
        {"do": "type", "screen": "login", "id": "code", "text": "000000"},  # a mistyped code first
        {"do": "wait_text", "screen": "login", "id": "message", "contains": "驗證碼已傳送"},
        {"do": "press", "screen": "login", "id": "verify"},
        {"do": "wait_text", "screen": "login", "id": "message", "contains": "登入失敗"},
        {"do": "record", "screen": "login", "ids": ["message"], "as": "wrong_code"},
        {
            "do": "sms_code",
            "file": str(live_hub.sms_path),
            "mobile": OFFICER_MOBILE_E164,
            "screen": "login",
            "id": "code",
        },
        {"do": "settle", "seconds": 0.3},
        {"do": "shot", "dir": shots, "name": "hub_2_login"},
        {"do": "camera", "spec": valid_cam},
        {"do": "press", "screen": "login", "id": "verify"},
        # Logged in: the scan screen opens and the camera sees the pass at once.
        {"do": "wait_screen", "name": "verdict"},
        {"do": "record", "screen": "scan", "ids": ["officer"], "as": "scan_screen"},
        {"do": "record", "screen": "verdict", "ids": ["word", "reason", "details"], "as": "valid"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "hub_3_verdict_valid"},
        {"do": "camera", "spec": revoked_cam},
        {"do": "press", "screen": "verdict", "id": "next_scan"},
        {"do": "wait_text", "screen": "verdict", "id": "word", "equals": "不予通行"},
        {"do": "wait_screen", "name": "verdict"},
        {"do": "record", "screen": "verdict", "ids": ["word", "reason", "details"], "as": "revoked"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "hub_4_verdict_revoked"},
        {"do": "press", "screen": "verdict", "id": "next_scan"},
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "sync"},
        {"do": "wait_screen", "name": "sync"},
        {"do": "press", "screen": "sync", "id": "sync_now"},
        {"do": "wait_status", "expect": {"queued": 0, "online": True}},
        {"do": "wait_text", "screen": "sync", "id": "status", "contains": "待上傳事件：0"},
        {"do": "record", "screen": "sync", "ids": ["status", "offline"], "as": "sync"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "hub_5_sync"},
        # 身分證核實 for someone the hub issued no pass: its answer in zh-TW, then in English after a live
        # switch (the hub sends a status; the app words it from the catalogue the hub words it from).
        {"do": "press", "screen": "sync", "id": "back"},
        {"do": "wait_screen", "name": "scan"},
        {"do": "press", "screen": "scan", "id": "id_card"},
        {"do": "wait_screen", "name": "id_card"},
        {"do": "type", "screen": "id_card", "id": "typed_id", "text": "A123456789"},
        {"do": "press", "screen": "id_card", "id": "check"},
        {"do": "wait_text", "screen": "id_card", "id": "word", "equals": "不予通行"},
        {"do": "record", "screen": "id_card", "ids": ["word", "details", "message"], "as": "id_card"},
        {"do": "settle"},
        {"do": "shot", "dir": shots, "name": "hub_6_id_card"},
        {"do": "lang", "value": "en"},
        {"do": "settle", "seconds": 0.2},
        {"do": "record", "screen": "id_card", "ids": ["word", "details", "message"], "as": "id_card_en"},
        {"do": "shot", "dir": shots, "name": "hub_6_id_card_en"},
    ]
    result = run_app(steps, ["--camera", road_cam(tmp_path), "--data", str(tmp_path / "device")])
    assert result["ok"], result["error"] + "\n" + result["stderr_tail"]
    records = result["records"]
    assert records["wrong_code"]["message"].startswith("登入失敗")
    assert "林*華" in records["scan_screen"]["officer"]
    assert records["valid"]["word"] == "核准通行"
    assert "陳大明" in records["valid"]["details"]
    assert records["revoked"]["word"] == "不予通行"
    assert records["revoked"]["reason"] == "通行碼已註銷"
    assert "連線狀態：已連線" in records["sync"]["status"] and records["sync"]["offline"] == ""
    assert result["sounds_played"] == [True, False]
    assert records["id_card"]["word"] == "不予通行"
    assert records["id_card"]["details"] == "查無此身分證號的通行碼，不予通行"
    assert records["id_card_en"]["word"] == "REFUSED"
    assert records["id_card_en"]["details"] == "No pass for this ID number: refused"
    # Both shown verdicts reached the hub, and the hub logged its ID-card check.
    reasons = sorted(row["reason"] for row in live_hub.scans())
    assert reasons == ["id_card:none", "revoked", "valid"]
