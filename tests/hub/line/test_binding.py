"""Binding a LINE user to a person with an SMS code, one person per LINE user, unbinding on role loss."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.audit import AuditEvent
from hub.models.line import LineBinding
from hub.models.rosters import Officer
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat

ADMIN = "+886933000001"
ADMIN_LOCAL = "0933000001"
EMPLOYEE = "+886955000001"


def _bindings(db: Session) -> list[tuple[str, str, str]]:
    db.expire_all()
    return [
        (b.channel, b.line_user_id, b.mobile)
        for b in db.scalars(select(LineBinding).order_by(LineBinding.id))
    ]


def _bind(chat: LineChat, sms: SmsOutbox, local: str, e164: str) -> list[dict]:
    prompt = chat.tap("a=register")
    assert "手機號碼" in prompt[0]["text"]
    sent = chat.say(local)
    assert "驗證碼" in sent[0]["text"] and local not in sent[0]["text"]  # masked
    return chat.say(sms.code(e164))


def _add_employee(
    hub: Hub, token: str, org_id: int, mobile: str = EMPLOYEE, national_id: str = "F131104093"
) -> int:
    response = hub.client.post(
        f"/api/v1/enterprises/{org_id}/employees",
        json={"name": "王大明", "mobile": mobile, "national_id": national_id},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_enterprise_admin_binds_with_an_sms_code(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    chat = LineChat(client, standin, "enterprise")
    done = _bind(chat, sms, ADMIN_LOCAL, ADMIN)
    assert done[0]["text"].startswith("註冊成功！您已綁定為：企業管理者（艾斯移動股份有限公司）")
    assert _bindings(db) == [("enterprise", chat.user_id, ADMIN)]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "line.bound")).one()
    assert chat.user_id not in json.dumps(event.details) and ADMIN not in json.dumps(event.details)
    # tapping 註冊 登入 again says who they are, and binds nothing new
    assert chat.tap("a=register")[0]["text"].startswith("您已完成綁定：企業管理者")
    assert len(_bindings(db)) == 1


def test_unknown_mobile_gets_the_same_answer_and_no_sms(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    known, stranger = LineChat(client, standin, "enterprise"), LineChat(client, standin, "enterprise")
    known.tap("a=register")
    stranger.tap("a=register")
    answer_known = known.say(ADMIN_LOCAL)[0]["text"]
    answer_stranger = stranger.say("0966000123")[0]["text"]
    assert answer_known.replace("09***0***1", "X") == answer_stranger.replace("09***0***3", "X")
    assert sms.messages("+886966000123") == []
    assert "驗證碼不正確或已失效" in stranger.say("123456")[0]["text"]
    assert _bindings(db) == []


def test_a_mobile_known_only_for_the_other_channel_cannot_bind(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    police = LineChat(client, standin, "police")
    police.tap("a=register")
    police.say("曾可愛")  # the enterprise admin's name (hub.register_enterprise)
    police.say(ADMIN_LOCAL)
    assert [m for m in sms.messages(ADMIN) if "Checkpass 驗證碼" in m["text"]][
        1:
    ] == []  # only the registration code
    assert _bindings(db) == []


def test_wrong_code_binds_nothing_and_bad_mobile_is_asked_again(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=register")
    assert "格式不正確" in chat.say("12345")[0]["text"]
    chat.say(ADMIN_LOCAL)
    right = sms.code(ADMIN)
    wrong = "000000" if right != "000000" else "111111"
    assert "驗證碼不正確或已失效" in chat.say(wrong)[0]["text"]
    assert _bindings(db) == []
    assert chat.say(right)[0]["text"].startswith("註冊成功")


def test_a_refused_resend_keeps_the_first_code_usable(
    app, settings, client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    """Asking again within the cooldown is refused with the wait stated; the code already received still
    binds (it is not taken for a malformed mobile)."""
    hub.register_enterprise(mobile=ADMIN)
    cooldown = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    app.state.settings = app.state.context.settings = cooldown  # the shipped cooldown (tests run with 0)
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=register")
    chat.say(ADMIN_LOCAL)
    first = sms.code(ADMIN)
    chat.tap("a=register")  # 註冊 登入 again, then the same number: within the resend cooldown
    refused = chat.say(ADMIN_LOCAL)[0]["text"]
    assert "過於頻繁" in refused and "秒後" in refused and "仍可使用" in refused
    assert sms.code(ADMIN) == first  # nothing new was sent
    done = chat.say(first)[0]["text"]
    assert done.startswith("註冊成功") and "格式不正確" not in done
    assert _bindings(db) == [("enterprise", chat.user_id, ADMIN)]


def test_code_sent_for_another_purpose_does_not_bind(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=register")
    chat.say(ADMIN_LOCAL)
    login_code = hub.request_code(ADMIN, "login")  # the newest code to this phone is for the REST login
    assert "驗證碼不正確" in chat.say(login_code)[0]["text"]
    assert _bindings(db) == []


def test_one_person_per_line_user_and_one_line_user_per_person(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    token, enterprise = hub.register_enterprise(mobile=ADMIN)
    _add_employee(hub, token, enterprise["id"])
    old_phone, new_phone = LineChat(client, standin, "enterprise"), LineChat(client, standin, "enterprise")
    _bind(old_phone, sms, ADMIN_LOCAL, ADMIN)
    _bind(new_phone, sms, ADMIN_LOCAL, ADMIN)  # the admin moved to a new phone
    assert _bindings(db) == [("enterprise", new_phone.user_id, ADMIN)]
    assert old_phone.tap("a=pass_show")[0]["text"].startswith("請先點選單的「註冊 登入」")

    # a bound LINE user cannot start binding a second person (the employee's mobile): no code is sent
    assert new_phone.tap("a=register")[0]["text"].startswith("您已完成綁定")
    new_phone.say("0955000001")
    assert sms.messages(EMPLOYEE) == []
    assert _bindings(db) == [("enterprise", new_phone.user_id, ADMIN)]


def test_employee_binds_and_loses_the_binding_when_taken_off_the_whitelist(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    token, enterprise = hub.register_enterprise(mobile=ADMIN)
    employee_id = _add_employee(hub, token, enterprise["id"])
    chat = LineChat(client, standin, "enterprise")
    assert _bind(chat, sms, "0955000001", EMPLOYEE)[0]["text"].startswith("註冊成功！您已綁定為：員工")

    deleted = client.delete(
        f"/api/v1/enterprises/{enterprise['id']}/employees/{employee_id}", headers=bearer(token)
    )
    assert deleted.status_code == 204
    answer = chat.tap("a=pass_show")
    assert answer[0]["text"].startswith("您的身分已變更")
    assert _bindings(db) == []
    assert db.scalar(select(func.count()).where(AuditEvent.action == "line.unbound")) == 1


def test_station_admin_and_duty_officer_bind_in_the_police_channel(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    station = hub.create_station(super_admin_token)
    admin_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    added = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(admin_token),
    )
    assert added.status_code == 201, added.text
    admin_chat, officer_chat = LineChat(client, standin, "police"), LineChat(client, standin, "police")
    assert admin_chat.register("+886922000001", sms.code, "林警官")[0]["text"].startswith(
        "註冊成功！您已綁定為：分局管理員（板橋分局）"
    )
    assert officer_chat.register("+886977000001", sms.code, "陳警員")[0]["text"].startswith(
        "註冊成功！您已綁定為：執勤警員（板橋分局）"
    )
    assert _bindings(db)[-1] == ("police", officer_chat.user_id, "+886977000001")
    # an employee channel user is not a police user
    enterprise_chat = LineChat(client, standin, "enterprise")
    enterprise_chat.tap("a=register")
    enterprise_chat.say("0977000001")
    assert len([m for m in sms.messages("+886977000001") if "驗證碼" in m["text"]]) == 1


def test_no_personal_data_in_postback_data_or_logs(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hub.register_enterprise(mobile=ADMIN)
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, ADMIN_LOCAL, ADMIN)
    sent = json.dumps([c.body for c in standin.calls() if isinstance(c.body, dict)], ensure_ascii=False)
    for secret in (ADMIN, ADMIN_LOCAL, "曾可愛"):
        assert secret not in sent
    logged = caplog.text
    for secret in (ADMIN, ADMIN_LOCAL, chat.user_id):
        assert secret not in logged


# --- the police channel: name and mobile, as the checkpoint app's officer login ---

OFFICER, OFFICER_LOCAL = "+886977000001", "0977000001"


def _police_station(hub: Hub, token: str, name: str = "板橋分局", **officers: str) -> dict:
    """A station with its duty roster: officers as name=local mobile."""
    station = hub.create_station(token, name=name)
    for officer_name, mobile in officers.items():
        added = hub.client.post(
            f"/api/v1/stations/{station['id']}/officers",
            json={"name": officer_name, "officer_number": f"N{mobile[-4:]}", "mobile": mobile},
            headers=bearer(token),
        )
        assert added.status_code == 201, added.text
    return station


def _ask(chat: LineChat, name: str, local: str) -> str:
    """註冊 登入, the name, the mobile: the answer to the mobile."""
    chat.tap("a=register")
    chat.say(name)
    return chat.say(local)[0]["text"]


def _codes(sms: SmsOutbox, e164: str) -> int:
    return len([m for m in sms.messages(e164) if "驗證碼" in m["text"]])


def test_police_binding_asks_the_name_then_the_mobile_and_takes_them_full_width(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    _police_station(hub, super_admin_token, 陳警員=OFFICER_LOCAL)
    chat = LineChat(client, standin, "police")
    assert "姓名" in chat.tap("a=register")[0]["text"]
    # a mobile typed first (the old habit) is not taken for a name
    assert "請先輸入您的姓名" in chat.say(OFFICER_LOCAL)[0]["text"]
    assert _codes(sms, OFFICER) == 0
    assert "手機號碼" in chat.say("陳 警員")[0]["text"]  # spaces are not part of the comparison
    sent = chat.say("０９７７０００００１")[0]["text"]  # a phone's full-width keyboard
    assert "1分鐘內送達" in sent and "洽所屬分局的管理者" in sent and OFFICER_LOCAL not in sent
    done = chat.say(sms.code(OFFICER))[0]["text"]
    assert done.startswith("註冊成功！您已綁定為：執勤警員（板橋分局）")
    assert _bindings(db) == [("police", chat.user_id, OFFICER)]


def test_a_wrong_name_gets_the_answer_of_an_unknown_mobile_and_binds_nothing(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    station = _police_station(hub, super_admin_token, 陳警員=OFFICER_LOCAL)
    hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")  # 林警官
    sms_before = _codes(sms, "+886922000001")
    wrong_officer, wrong_admin, stranger = (LineChat(client, standin, "police") for _ in range(3))
    wrong_name = _ask(wrong_officer, "陳大明", OFFICER_LOCAL)
    wrong_admin_name = _ask(wrong_admin, "陳警員", "0922000001")  # a rostered name, another's mobile
    unknown = _ask(stranger, "陳警員", "0966000123")
    masked = ("09***0***1", "09***0***3")
    same = [
        text.replace(masked[0], "X").replace(masked[1], "X")
        for text in (wrong_name, wrong_admin_name, unknown)
    ]
    assert same[0] == same[1] == same[2], same
    assert _codes(sms, OFFICER) == 0 and _codes(sms, "+886922000001") == sms_before
    for chat in (wrong_officer, wrong_admin, stranger):
        assert "驗證碼不正確或已失效" in chat.say("123456")[0]["text"]
    assert _bindings(db) == []


def test_a_refused_police_resend_keeps_the_person_at_the_code_with_the_wait(
    app,
    settings,
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    db: Session,
    super_admin_token: str,
) -> None:
    _police_station(hub, super_admin_token, 陳警員=OFFICER_LOCAL)
    cooldown = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    app.state.settings = app.state.context.settings = cooldown  # the shipped cooldown (tests run with 0)
    chat = LineChat(client, standin, "police")
    _ask(chat, "陳警員", OFFICER_LOCAL)
    first = sms.code(OFFICER)
    refused = _ask(chat, "陳警員", OFFICER_LOCAL)  # 註冊 登入 again at once
    assert "過於頻繁" in refused and "秒後" in refused and "仍可使用" in refused
    assert _codes(sms, OFFICER) == 1
    done = chat.say(first)[0]["text"]
    assert done.startswith("註冊成功！您已綁定為：執勤警員") and "格式不正確" not in done
    assert _bindings(db) == [("police", chat.user_id, OFFICER)]


def test_an_officer_cannot_bind_to_another_stations_entry_of_someone_else(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    """Officer 陳警員 of 板橋分局. 三重分局's roster has 李文華 (0977000002) and, by a slip of its admin,
    an entry 王志明 carrying 陳警員's mobile: neither is 陳警員's to bind."""
    _police_station(hub, super_admin_token, 陳警員=OFFICER_LOCAL)
    _police_station(hub, super_admin_token, "三重分局", 李文華="0977000002", 王志明=OFFICER_LOCAL)
    chat = LineChat(client, standin, "police")
    # B's officer's name with one's own mobile: not on any roster as such, no code, the usual answer
    assert "1分鐘內送達" in _ask(chat, "李文華", OFFICER_LOCAL)
    assert _codes(sms, OFFICER) == 0
    # one's own code, then B's officer's name and mobile: that code goes to B's officer only
    own = chat.register(OFFICER, sms.code, "陳警員")
    assert own[0]["text"].startswith("註冊成功！您已綁定為：執勤警員（板橋分局）")
    assert "三重分局" not in own[0]["text"]  # the other station's entry under another name is not theirs
    intruder = LineChat(client, standin, "police")
    _ask(intruder, "陳警員", OFFICER_LOCAL)
    mine = sms.code(OFFICER)
    _ask(intruder, "李文華", "0977000002")
    assert _codes(sms, "+886977000002") == 1
    assert "驗證碼不正確或已失效" in intruder.say(mine)[0]["text"]
    assert _bindings(db) == [("police", chat.user_id, OFFICER)]
    # and every later event reads the accounts under the bound name only
    roles = chat.tap("a=register")[0]["text"]
    assert roles.startswith("您已完成綁定：執勤警員（板橋分局）") and "三重分局" not in roles


def test_a_roster_entry_renamed_is_no_longer_the_bound_persons(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    """The binding is a name and a mobile: when the station admin renames the entry, the next event finds
    no account under the bound name, and the person binds again under the roster's name."""
    station = _police_station(hub, super_admin_token, 陳警員=OFFICER_LOCAL)
    chat = LineChat(client, standin, "police")
    assert chat.register(OFFICER, sms.code, "陳警員")[0]["text"].startswith("註冊成功")
    officer_id = db.scalars(select(Officer.id).where(Officer.mobile == OFFICER)).one()
    renamed = client.patch(
        f"/api/v1/stations/{station['id']}/officers/{officer_id}",
        json={"name": "陳志明"},
        headers=bearer(super_admin_token),
    )
    assert renamed.status_code == 200, renamed.text
    assert chat.tap("a=scan")[0]["text"].startswith("您的身分已變更")
    assert _bindings(db) == []
    assert "1分鐘內送達" in _ask(chat, "陳警員", OFFICER_LOCAL)
    assert chat.say(sms.code(OFFICER))[0]["text"].startswith("驗證碼不正確")  # no new code was sent
    assert chat.register(OFFICER, sms.code, "陳志明")[0]["text"].startswith("註冊成功！您已綁定為：執勤警員")
