"""The two webhooks: signatures, redeliveries, the greeting and every FAQ, 詢問客服, retries, the outbox."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from checkpass_testkit.line_standin.schema import check
from hub.core.config import Settings
from hub.line import messages as m
from hub.main import create_app
from hub.models.line import ChannelName, LineEvent, LineSupportMessage
from hub.models.line_inbox import LineInboxEntry
from hub.services.errors import NotAllowed
from hub.services.support import list_support_messages, mark_handled
from tests.hub.line.linekit import LineChat, body_of, drained, make_event, sign


def _events(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(LineEvent)) or 0


def _every_call_valid(standin: StandIn) -> None:
    for call in standin.calls():
        if call.operation_id in ("replyMessage", "pushMessage"):
            schema = "ReplyMessageRequest" if call.operation_id == "replyMessage" else "PushMessageRequest"
            assert check("messaging-api", schema, call.body) == []


@pytest.mark.parametrize("channel", ["enterprise", "police"])
def test_follow_greets_with_the_seed_text_and_every_faq_is_answered(
    client: TestClient, standin: StandIn, channel: str
) -> None:
    chat = LineChat(client, standin, channel)
    greeting = chat.follow()
    assert len(greeting) == 1
    assert greeting[0]["text"].startswith(
        "您好！\n\n防疫城市管理期間，僅允許註冊通行碼得進出新北市主要通道！"
    )
    labels = [item["action"]["label"] for item in greeting[0]["quickReply"]["items"]]
    expected = {
        "enterprise": [
            "什麼是企業實聯碼？",
            "什麼是員工通行碼？",
            "一般企業或警局分別如何使用？",
            "我可以申請多個員工通行碼嗎？",
        ],
        "police": ["申請警局", "我可申請警員碼嗎？", "如何匯出通行資訊"],
    }[channel]
    assert labels == [*expected, "詢問客服"]
    for item in greeting[0]["quickReply"]["items"][:-1]:
        answer = chat.tap(item["action"]["data"])
        assert answer[0]["text"] == m.FAQ_BY_QUESTION[item["action"]["label"]].answer
        # typed instead of tapped, the question gets the same answer
        assert chat.say(item["action"]["label"])[0]["text"] == answer[0]["text"]
    _every_call_valid(standin)


def test_faq_of_the_other_channel_or_junk_postback_is_not_answered_as_one(
    client: TestClient, standin: StandIn
) -> None:
    chat = LineChat(client, standin, "police")
    assert chat.tap("a=faq&q=venue_code")[0]["text"] == "請從下列問題中選擇："
    assert "無法辨識" not in chat.tap("%%%&&&")[0]["text"]  # unbound: asked to register, nothing else
    assert chat.tap("a=pass_show")[0]["text"].startswith("請先點選單的「註冊 登入」")


def test_support_message_is_stored_for_the_console(
    client: TestClient, standin: StandIn, db: Session, super_admin_token: str
) -> None:
    chat = LineChat(client, standin, "enterprise")
    prompt = chat.tap("a=support")
    assert "請直接輸入您的問題" in prompt[0]["text"]
    thanks = chat.say("我的通行碼掃不出來，請協助")
    assert thanks[0]["text"] == "已收到您的訊息，客服人員將盡快與您聯繫。"
    # the next text is chat again, not a second support message
    chat.say("你好")

    from hub.models.identity import User

    admin = db.scalars(select(User).where(User.role == "super_admin")).one()
    found = list_support_messages(db, admin)
    assert [(s.channel, s.text, s.sender) for s in found] == [
        ("enterprise", "我的通行碼掃不出來，請協助", "未綁定")
    ]
    mark_handled(db, admin, found[0].id)
    assert list_support_messages(db, admin) == []
    assert len(list_support_messages(db, admin, unhandled_only=False)) == 1


def test_support_messages_are_for_hub_admins_only(db: Session, hub, super_admin_token: str) -> None:
    from hub.models.identity import User

    hub.register_enterprise()
    enterprise_admin = db.scalars(select(User).where(User.role == "enterprise_admin")).one()
    with pytest.raises(NotAllowed):
        list_support_messages(db, enterprise_admin)
    with pytest.raises(NotAllowed):
        mark_handled(db, enterprise_admin, 1)


@pytest.mark.parametrize("signature", [None, "", "AAAA", "forged"])
def test_bad_or_missing_signature_is_refused_and_nothing_is_done(
    client: TestClient, standin: StandIn, db: Session, signature: str | None
) -> None:
    chat = LineChat(client, standin, "enterprise")
    body = body_of(make_event("follow", chat.user_id, reply_token=standin.issue_reply_token("enterprise")))
    if signature == "forged":
        signature = sign("another-secret", body)
    response = chat.post(body, signature=signature)
    assert response.status_code == 400
    assert _events(db) == 0
    assert standin.calls() == []


def test_signature_of_the_other_channel_is_refused(client: TestClient, standin: StandIn, db: Session) -> None:
    chat = LineChat(client, standin, "police")
    body = body_of(make_event("follow", chat.user_id, reply_token=standin.issue_reply_token("police")))
    from tests.hub.line.linekit import SECRETS

    assert chat.post(body, signature=sign(SECRETS["enterprise"], body)).status_code == 400
    assert _events(db) == 0


def test_a_changed_body_breaks_the_signature(client: TestClient, standin: StandIn, db: Session) -> None:
    chat = LineChat(client, standin, "enterprise")
    body = body_of(make_event("message", chat.user_id, reply_token="r", text="註冊 登入"))
    from tests.hub.line.linekit import SECRETS

    signature = sign(SECRETS["enterprise"], body)
    tampered = body.replace("註冊 登入".encode(), "詢問客服".encode())
    assert chat.post(tampered, signature=signature).status_code == 400
    assert _events(db) == 0


def test_redelivered_event_is_handled_once(client: TestClient, standin: StandIn, db: Session) -> None:
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=support")
    first = make_event(
        "message", chat.user_id, reply_token=standin.issue_reply_token("enterprise"), text="請幫我查詢"
    )
    assert chat.post(body_of(first)).status_code == 200
    again = dict(
        first, deliveryContext={"isRedelivery": True}, replyToken=standin.issue_reply_token("enterprise")
    )
    assert chat.post(body_of(again)).status_code == 200
    drained(client)
    assert db.scalar(select(func.count()).select_from(LineSupportMessage)) == 1
    assert db.scalar(select(func.count()).select_from(LineInboxEntry)) == 2  # the tap and the message
    replies = [c for c in standin.calls("enterprise") if c.operation_id in ("replyMessage", "pushMessage")]
    assert len(replies) == 2  # the prompt and one answer to the message, not two


def test_429_and_500_are_retried_and_the_reply_goes_out_once(client: TestClient, standin: StandIn) -> None:
    chat = LineChat(client, standin, "enterprise")
    standin.inject("/v2/bot/message/reply", 429, count=1)
    standin.inject("/v2/bot/message/reply", 500, count=2)
    answer = chat.follow()
    assert len(answer) == 1 and answer[0]["text"].startswith("您好！")
    statuses = [c.status for c in standin.calls("enterprise", "replyMessage")]
    assert statuses == [429, 500, 500, 200]
    assert standin.calls("enterprise", "pushMessage") == []


def test_spent_reply_token_falls_back_to_one_push(client: TestClient, standin: StandIn, db: Session) -> None:
    chat = LineChat(client, standin, "police")
    standin.reply_token_seconds = 0  # the reply window has passed by the time the hub answers
    answer = chat.follow()
    assert answer[0]["text"].startswith("您好！")
    pushes = standin.calls("police", "pushMessage")
    assert [p.status for p in pushes] == [200] and pushes[0].body["to"] == chat.user_id
    assert pushes[0].headers.get("X-Line-Retry-Key")
    db.expire_all()
    assert db.scalars(select(LineEvent)).one().delivered_at is not None


def test_undelivered_messages_wait_in_the_outbox_and_go_once_when_line_is_back(
    client: TestClient, standin: StandIn, db: Session
) -> None:
    chat = LineChat(client, standin, "enterprise")
    # LINE down until the test says it is back: every reply and push try fails, however many tries the
    # worker's backoff fits into a slow machine's seconds
    standin.inject("/v2/bot/message/", 500, count=10_000)
    event = make_event("follow", chat.user_id, reply_token=standin.issue_reply_token("enterprise"))
    assert chat.post(body_of(event)).status_code == 200
    drained(client)
    db.expire_all()
    row = db.scalars(select(LineEvent)).one()
    assert row.delivered_at is None and row.reply[0]["text"].startswith("您好！")
    assert chat.answers(0) == []
    entry = db.scalars(select(LineInboxEntry)).one()
    assert entry.done_at is None and entry.attempts >= 1 and entry.next_attempt_at is not None

    # a redelivery is not stored again and sends nothing while the row waits for its next try
    redelivered = dict(event, deliveryContext={"isRedelivery": True})
    assert chat.post(body_of(redelivered)).status_code == 200
    drained(client)
    assert chat.answers(0) == []
    assert db.scalar(select(func.count()).select_from(LineInboxEntry)) == 1

    # LINE is back when the retry comes due: no new handling, the kept messages are pushed once
    standin.clear_faults()
    db.refresh(entry)
    entry.next_attempt_at = entry.next_attempt_at - dt.timedelta(minutes=10)
    db.commit()
    drained(client)
    assert chat.post(body_of(redelivered)).status_code == 200
    drained(client)
    sent = chat.answers(0)
    assert len(sent) == 1 and sent[0]["text"].startswith("您好！")
    assert [c.status for c in standin.calls("enterprise", "pushMessage")][-1] == 200
    assert _events(db) == 1
    db.expire_all()
    assert db.scalars(select(LineEvent)).one().delivered_at is not None


def test_unknown_channel_and_group_events(client: TestClient, standin: StandIn, db: Session) -> None:
    assert (
        client.post("/line/other/webhook", content=b"{}", headers={"X-Line-Signature": "x"}).status_code
        == 404
    )
    chat = LineChat(client, standin, "enterprise")
    event = make_event(
        "message", chat.user_id, reply_token=standin.issue_reply_token("enterprise"), text="hi"
    )
    event["source"] = {"type": "group", "groupId": "C" + "0" * 32}
    assert chat.post(body_of(event)).status_code == 200
    drained(client)
    assert standin.calls() == []


def test_without_line_settings_the_hub_has_no_webhooks(settings: Settings) -> None:
    plain = settings.model_copy(
        update={
            "line_enterprise_channel_secret": None,
            "line_enterprise_channel_token": None,
            "line_police_channel_secret": None,
            "line_police_channel_token": None,
        }
    )
    app = create_app(plain)
    try:
        with TestClient(app) as client:
            assert client.post("/line/enterprise/webhook", content=b"{}").status_code == 404
            assert app.state.line is None
    finally:
        app.state.engine.dispose()


def test_logs_hold_no_line_user_id_or_message_text(
    client: TestClient, standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = LineChat(client, standin, "enterprise")
    standin.inject("/v2/bot/message/reply", 500, count=1)
    chat.tap("a=support")
    chat.say("我的手機是 0912345678")
    text = caplog.text + json.dumps([r.args for r in caplog.records], default=str)
    assert chat.user_id not in text
    assert "0912345678" not in text


def test_channel_names_are_the_issue_s(client: TestClient) -> None:
    assert {c.value for c in ChannelName} == {"enterprise", "police"}
