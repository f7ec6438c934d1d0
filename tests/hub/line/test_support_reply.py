"""詢問客服 answered: a guest writes in LINE, a hub admin answers on the console's support page, and the
answer reaches the guest in LINE by push (once, with a retry key, through the LINE inbox), audited. A
double submit sends one answer; a second answer, a stranger to the console and a non-admin send none."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.audit import AuditEvent
from hub.models.line import LineSupportMessage
from hub.services.bootstrap import create_super_admin
from tests.hub.console.consolekit import form_of
from tests.hub.console.test_console_pages import SUPER, _console_login, _enterprise_console
from tests.hub.hubkit import Hub, SmsOutbox
from tests.hub.line.linekit import LineChat, drained


def _pushes(standin: StandIn, chat: LineChat) -> list[Any]:
    return [
        c
        for c in standin.calls(chat.channel, "pushMessage")
        if c.status == 200 and c.body["to"] == chat.user_id
    ]


def _ask(chat: LineChat, words: str, db: Session) -> int:
    assert chat.tap("a=support")[0]["text"]
    assert chat.say(words)[0]["text"]
    db.expire_all()
    row = db.scalars(select(LineSupportMessage).order_by(LineSupportMessage.id.desc())).first()
    assert row is not None and row.line_user_id == chat.user_id and row.mobile is None  # a guest's
    return row.id


def test_a_guests_question_is_answered_in_line_once(
    hub: Hub, client: TestClient, standin: StandIn, sms: SmsOutbox, keys_dir: Any, db: Session
) -> None:
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console = _console_login(client, sms, SUPER)
    guest = LineChat(client, standin, "police")
    message_id = _ask(guest, "請問分局要怎麼申請？", db)
    bystander = LineChat(client, standin, "police")
    _ask(bystander, "我也有問題", db)

    page = console.get("/console/support")
    assert f'action="/console/support/{message_id}/reply"' in page.text
    answer = {"reply": "請由選單「註冊 登入」中的分局註冊表單申請。"}
    action = f"/console/support/{message_id}/reply"
    form = {**form_of(page.text, action), **answer}
    sent = console.send(action, form)
    assert sent.status_code == 303, sent.text
    again = console.send(action, form)  # the same form sent twice (a double click): the first's answer
    assert again.status_code == 303, again.text
    drained(client)

    [pushed] = _pushes(standin, guest)
    assert pushed.body["messages"][0]["text"] == "客服回覆：\n請由選單「註冊 登入」中的分局註冊表單申請。"
    assert pushed.headers.get("X-Line-Retry-Key")
    assert _pushes(standin, bystander) == []  # the other person's chat gets nothing
    db.expire_all()
    assert db.get(LineSupportMessage, message_id).handled_at is not None
    shown = console.get("/console/support?show=all").text
    assert "已回覆" in shown and "已送達 LINE" in shown
    audited = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "line.support.replied")))
    assert [(a.target, a.details["chars"]) for a in audited] == [(str(message_id), len(answer["reply"]))]
    assert "分局註冊" not in str(audited[0].details)  # the answer's words are not in the audit log

    # a second answer to the same message (a new form) is refused, and nothing more is pushed
    refused = console.post(
        f"/console/support/{message_id}/reply", {"reply": "再說一次"}, token_from="/console/support"
    )
    assert refused.status_code == 409 and "已經回覆過了" in refused.text
    empty = console.post(
        f"/console/support/{message_id + 1}/reply", {"reply": "  "}, token_from="/console/support"
    )
    assert empty.status_code == 400
    drained(client)
    assert len(_pushes(standin, guest)) == 1 and _pushes(standin, bystander) == []


def test_no_answer_without_the_console_role(
    hub: Hub, client: TestClient, standin: StandIn, sms: SmsOutbox, keys_dir: Any, db: Session
) -> None:
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    guest = LineChat(client, standin, "enterprise")
    message_id = _ask(guest, "請回覆我", db)
    console, own = _enterprise_console(hub, client, sms)  # an enterprise admin: no hub admin
    refused = console.post(
        f"/console/support/{message_id}/reply",
        {"reply": "假冒客服"},
        token_from=f"/console/enterprises/{own}",
    )
    assert refused.status_code == 403
    forged = client.post(f"/console/support/{message_id}/reply", data={"reply": "假冒客服"})
    assert forged.status_code in (303, 401, 403)
    drained(client)
    assert _pushes(standin, guest) == []
    db.expire_all()
    assert db.get(LineSupportMessage, message_id).handled_at is None
