"""Every refusal the checkpoint core can raise, in both languages (zh-TW first).

A core error carries a key of this table and its values (`checkpoint_app.errors`); `str()` of
the error is the English text (logs, tests), and the screen shows the text in the officer's
language. Nothing from the hub's own English answer reaches the screen: the hub's reason is
mapped to a key here, its detail goes to the log only.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # enrolment
    "enrol_not_code": ("這不是裝置註冊碼（應以 CPE1: 開頭）", "not an enrolment code (expected CPE1:...)"),
    "enrol_damaged": ("註冊碼已損壞", "enrolment code is damaged"),
    "enrol_no_hub": ("註冊碼沒有有效的管理中心位址", "enrolment code has no valid hub address"),
    "enrol_no_token": ("註冊碼缺少註冊憑證", "enrolment code has no token"),
    "enrol_no_root": ("註冊碼沒有有效的根金鑰", "enrolment code has no valid root key"),
    "enrol_already": ("此裝置已註冊", "this device is already enrolled"),
    "enrol_refused": (
        "管理中心拒絕此註冊碼（已使用或已過期）",
        "the hub refused this enrolment code (used or expired)",
    ),
    "enrol_no_device_id": ("管理中心的回應缺少裝置編號", "the hub's answer has no device id"),
    "enrol_root_mismatch": (
        "管理中心的根金鑰與註冊碼不符，已拒絕",
        "the hub's root key differs from the enrolment code: refusing",
    ),
    # officer login
    "mobile_format": ("手機號碼格式應為 0912345678", "mobile number must look like 0912345678"),
    "name_required": ("請輸入姓名", "name is required"),
    "sms_code_digits": ("簡訊驗證碼為 6 位數字", "the SMS code is exactly 6 digits"),
    "not_on_roster": ("不在本分局的執勤名冊上", "not on this station's duty roster"),
    "too_many_attempts": ("嘗試次數過多，請稍候再試", "too many attempts; wait and try again"),
    "login_input_refused": (
        "管理中心不接受輸入的姓名、手機號碼或驗證碼",
        "login refused: the hub did not accept the name, mobile or code as typed",
    ),
    "wrong_code": ("驗證碼錯誤或已過期", "login refused: wrong or expired code"),
    "login_hub_status": ("管理中心拒絕登入（狀態 {status}）", "login failed (hub status {status})"),
    "credential_damaged": ("執勤憑證已損壞", "officer credential is damaged"),
    "credential_unknown_key": (
        "執勤憑證的簽章金鑰不明（請先同步信任資料）",
        "officer credential signed by an unknown key (sync trust data first)",
    ),
    "credential_not_officer": ("這不是執勤憑證", "not an officer credential"),
    "credential_no_validity": ("執勤憑證缺少有效期間", "officer credential has no validity period"),
    "credential_bad_signature": ("執勤憑證簽章驗證失敗", "officer credential signature does not verify"),
    "credential_other_device": ("執勤憑證屬於另一台裝置", "officer credential belongs to another device"),
    "credential_incomplete": ("執勤憑證資料不完整", "officer credential is incomplete"),
    "credential_damaged_answer": ("管理中心傳回的憑證已損壞", "the hub sent a damaged credential"),
    # device state
    "not_enrolled": ("此裝置尚未註冊", "this device is not enrolled"),
    "no_officer": ("尚無有效的執勤登入，不能掃描", "no valid officer login: scanning is not allowed"),
    "no_trust_yet": ("尚未從管理中心取得信任資料", "no trust data from the hub yet"),
    # the hub as a server
    "hub_unreachable": ("無法連線至管理中心", "hub unreachable"),
    "hub_refused": ("管理中心拒絕了請求（狀態 {status}）", "the hub refused the request (status {status})"),
    "hub_bad_answer": ("管理中心的回應無法解讀", "the hub sent an answer this app cannot read"),
    # the ID-card check (checkpoint_app.id_card_lookup)
    "idcard_needs_network": (
        "身分證核實需要網路連線，目前離線；通行碼查驗仍可離線使用",
        "The ID-card check needs the network and this device is offline; pass checks still work offline",
    ),
    "idcard_invalid": (
        "身分證號格式或檢查碼錯誤，請再核對一次",
        "not a valid ID number (format or check digit)",
    ),
    "idcard_device_refused": ("管理中心不接受此裝置的請求", "the hub refused this device's request"),
    "idcard_not_officer": (
        "管理中心查無本分局的執勤登入，請重新登入",
        "no duty login of this station at the hub: log in again",
    ),
    "idcard_throttled": (
        "身分證核實次數已達每小時上限，請稍後再試",
        "hourly ID-card check limit reached; try later",
    ),
    # sync
    "sync_unacknowledged": ("管理中心未確認此批事件", "hub acknowledged no event of the batch"),
    "status_list_failed": ("部分註銷清單未能更新", "some status lists could not be refreshed"),
    "status_list_bad": ("註銷清單 {kid} 驗證失敗", "status list for {kid} does not verify"),
    "status_list_other_key": ("註銷清單 {kid} 屬於另一把金鑰", "status list for {kid} names another key"),
}


def text(key: str, lang: str, values: dict[str, object] | None = None) -> str:
    """The message `key` in `lang` ("zh" or "en"), formatted with `values`."""
    zh, en = MESSAGES[key]
    chosen = en if lang == "en" else zh
    return chosen.format(**values) if values else chosen
