"""The app's words: Traditional Chinese (the officers' language) first, English second.

A small table instead of gettext: the app has a few dozen strings, both languages are always
shipped, and a screen switches language live (the kv rules pass ``app.lang`` so they rebind).
Verdict reasons come from the core (`checkpoint_app.reasons`), not from here.
"""

from __future__ import annotations

import os

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_ENV = "CHECKPASS_LANG"

_TABLE: dict[str, tuple[str, str]] = {
    "app_title": ("交通管制通行碼查驗", "Checkpass checkpoint"),
    "lang_switch": ("English", "中文"),
    "back": ("返回", "Back"),
    "ok": ("確定", "OK"),
    "cancel": ("取消", "Cancel"),
    "working": ("處理中…", "Working…"),
    # enrol
    "enrol_title": ("裝置註冊", "Enrol this device"),
    "enrol_help": (
        "請掃描管理中心提供的裝置註冊 QR Code，或貼上註冊碼。",
        "Scan the enrolment QR code from the hub, or paste the enrolment text.",
    ),
    "enrol_text_hint": ("註冊碼（CPE1:…）", "Enrolment text (CPE1:…)"),
    "enrol_button": ("註冊", "Enrol"),
    "enrol_done": ("註冊完成", "Device enrolled"),
    "enrol_wrong_qr": ("這不是裝置註冊碼", "This is not an enrolment code"),
    # officer login
    "login_title": ("執勤員警登入", "Duty officer login"),
    "login_name": ("姓名", "Name"),
    "login_mobile": ("手機號碼", "Mobile number"),
    "login_send_code": ("傳送簡訊驗證碼", "Send SMS code"),
    "login_code": ("簡訊驗證碼", "SMS code"),
    "login_verify": ("登入", "Log in"),
    # The hub answers alike whether or not the name and mobile are on a roster (it must not tell
    # who is): so the words say when a code arrives if they are, and whom to ask if none comes.
    "login_code_sent": (
        "驗證碼已傳送。若您的姓名及手機號碼與本分局執勤名冊相符，簡訊將於1分鐘內送達，{minutes}分鐘內"
        "有效；未收到請確認姓名與名冊上的寫法相同，或洽所屬分局的管理者。",
        "Code sent. If your name and mobile match this station's duty roster, the SMS arrives within "
        "1 minute and is valid for {minutes} minutes; if none comes, check that your name is written as "
        "on the roster, or ask your station's administrator.",
    ),
    "login_need_name_mobile": ("請輸入姓名及手機號碼", "Enter your name and mobile number"),
    "login_need_code": ("請輸入簡訊驗證碼", "Enter the SMS code"),
    "login_offline": ("無法連線至管理中心，請稍後再試", "Cannot reach the hub; try again later"),
    # scan
    "scan_title": ("掃描通行碼", "Scan a pass"),
    "scan_hint": ("將通行碼對準畫面中央", "Hold the pass in the middle of the view"),
    "scan_officer": ("執勤：{name}　至 {until}（臺北時間）", "On duty: {name} until {until} (Taipei time)"),
    "scan_no_camera": ("無法開啟相機，請檢查相機設定", "Cannot open the camera; check the camera setting"),
    "torch_on": ("手電筒：開", "Torch: on"),
    "torch_off": ("手電筒：關", "Torch: off"),
    "torch_unavailable": ("此裝置無法控制手電筒", "Torch control is not available on this device"),
    "history": ("本班紀錄", "Shift history"),
    "sync": ("同步狀態", "Sync status"),
    "logout": ("登出", "Log out"),
    "logout_title": ("確定要登出嗎？", "Log out?"),
    "logout_help": (
        "登出後須重新以簡訊驗證碼登入，才能繼續掃描。",
        "After logging out, scanning needs a new login with an SMS code.",
    ),
    "offline_badge": ("離線", "OFFLINE"),
    "unenrolled_badge": ("尚未註冊", "NOT ENROLLED"),
    "online_badge": ("連線", "ONLINE"),
    "queued_badge": ("待上傳 {count}", "{count} queued"),
    # verdict
    "verdict_ok": ("核准通行", "APPROVED"),
    "verdict_refused": ("不予通行", "REFUSED"),
    "verdict_holder": ("持有人：{name}", "Holder: {name}"),
    "verdict_id": ("身分證號：{masked}", "ID number: {masked}"),
    "verdict_org": ("單位：{org}", "Organisation: {org}"),
    "verdict_kind": ("類別：{kind}", "Type: {kind}"),
    "verdict_valid_until": ("有效至：{when}（臺北時間）", "Valid until: {when} (Taipei time)"),
    "verdict_trust_age": ("信任資料：{age}前更新", "Trust data: updated {age} ago"),
    "verdict_stale": ("信任資料已過期，請盡快連線同步", "Trust data out of date: sync soon"),
    "verdict_check_id": ("核對身分證", "Check ID card"),
    "verdict_next": ("繼續掃描", "Next scan"),
    "kind_employee": ("員工", "Employee"),
    "kind_vehicle": ("車輛", "Vehicle"),
    # ID check
    "idcheck_title": ("核對身分證", "Check the ID card"),
    "idcheck_help": (
        "請輸入證件上的身分證統一編號（不會儲存）。",
        "Type the number on the ID card (it is never stored).",
    ),
    # Short: at 30 sp a longer hint is cut by a phone-wide field (the line above says what to type).
    "idcheck_hint": ("例如 A123456789", "e.g. A123456789"),
    "idcheck_button": ("核對", "Check"),
    # history
    "history_title": ("本班掃描紀錄（臺北時間）", "Scans this shift (Taipei time)"),
    "history_empty": ("本班尚無掃描紀錄", "No scans yet this shift"),
    "history_state_queued": ("待上傳", "queued"),
    "history_state_sent": ("已上傳", "sent"),
    "history_state_parked": ("被退回", "parked"),
    # sync
    "sync_title": ("同步狀態", "Sync status"),
    "sync_queued": ("待上傳事件：{count}", "Events queued: {count}"),
    "sync_parked": ("被退回事件：{count}", "Events refused by the hub: {count}"),
    "sync_last": ("上次同步：{when}（臺北時間）", "Last sync: {when} (Taipei time)"),
    "sync_never": ("從未", "never"),
    "sync_trust_age": ("信任資料更新於：{age}前", "Trust data age: {age}"),
    "sync_trust_unknown": ("信任資料：無", "Trust data: none"),
    "sync_online": ("連線狀態：已連線", "Network: online"),
    "sync_offline": ("連線狀態：離線", "Network: OFFLINE"),
    "sync_error": ("上次同步失敗，詳情已記錄", "The last sync failed; the details are in the log"),
    "sync_now": ("立即同步", "Sync now"),
    "sync_done": ("同步完成：上傳 {uploaded} 筆", "Synced: {uploaded} uploaded"),
    # errors (the detail after the colon is the core's message, checkpoint_app/messages.py)
    "error_offline": ("無法連線至管理中心，請稍後再試", "Cannot reach the hub; try again later"),
    "error_login": ("登入失敗：{detail}", "Login failed: {detail}"),
    "error_enrol": ("註冊失敗：{detail}", "Enrolment failed: {detail}"),
    "error_input": ("輸入有誤：{detail}", "Please check the input: {detail}"),
    "error_no_officer": ("請先登入執勤員警", "An officer must log in first"),
    "error_other": ("發生錯誤：{detail}", "Error: {detail}"),
    "error_unexpected": ("發生未預期的錯誤，詳情已記錄", "Unexpected error; the details are in the log"),
    # durations
    "age_seconds": ("{n} 秒", "{n} s"),
    "age_minutes": ("{n} 分鐘", "{n} min"),
    "age_hours": ("{n} 小時", "{n} h"),
    "age_days": ("{n} 天", "{n} d"),
}


def normalise_language(value: str | None) -> str:
    """'zh-TW', 'zh_Hant', 'EN' ... -> 'zh' | 'en'; anything unknown falls back to Chinese."""
    code = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def initial_language(flag: str | None = None) -> str:
    """The --lang flag wins over the environment variable; default Traditional Chinese."""
    return normalise_language(flag or os.environ.get(LANG_ENV))


def tr(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`, formatted with `values`. An unknown key is a programming error."""
    zh, en = _TABLE[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def pick(zh: str, en: str, lang: str) -> str:
    """Choose between a (zh, en) pair that came from the core (e.g. a verdict reason)."""
    return en if lang == "en" else zh


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


def keys() -> frozenset[str]:
    return frozenset(_TABLE)


def error_text(exc: BaseException, lang: str) -> str:
    """Words for a failed step, all in `lang`: the core's errors carry a message key
    (checkpoint_app/messages.py); anything else is a defect, named only in the log."""
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
