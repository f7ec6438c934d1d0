"""The LINE entries' records join the 28-day retention purge; bindings stay."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.audit import AuditEvent
from hub.models.line import LineBinding, LineConversation, LineEvent, LineSupportMessage
from hub.models.line_inbox import LineInboxEntry
from hub.services.retention import purge_expired
from tests.hub.hubkit import Hub, SmsOutbox
from tests.hub.line.linekit import LineChat

ADMIN = "+886933000001"


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _age(db: Session, column: object, user_id: str, days: int) -> None:
    table = column.class_  # type: ignore[attr-defined]
    db.execute(
        update(table)
        .where(table.line_user_id == user_id)
        .values({column.key: dt.datetime.now(dt.UTC) - dt.timedelta(days=days)})  # type: ignore[attr-defined]
    )
    db.commit()


def test_purge_removes_line_records_older_than_retention_and_keeps_bindings(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session
) -> None:
    hub.register_enterprise(mobile=ADMIN)
    old = LineChat(client, standin, "enterprise")  # binds, writes to 客服, then starts binding again
    old.tap("a=register")
    old.say("0933000001")
    old.say(sms.code(ADMIN))
    old.tap("a=support")
    old.say("我的通行碼不見了")
    recent = LineChat(client, standin, "enterprise")  # the same steps, but recent
    recent.tap("a=support")
    recent.say("請問如何申請")
    recent.tap("a=register")
    recent.say("0933000002")  # a conversation waiting for its code holds this mobile
    old_events = db.scalar(select(func.count()).where(LineEvent.line_user_id == old.user_id))
    assert old_events and _count(db, LineSupportMessage) == 2
    assert db.scalar(select(func.count()).where(LineConversation.line_user_id == recent.user_id)) == 1
    db.add(LineConversation(channel="enterprise", line_user_id=old.user_id, step="mobile", mobile=ADMIN))
    db.commit()

    _age(db, LineEvent.received_at, old.user_id, 29)
    _age(db, LineConversation.updated_at, old.user_id, 29)
    _age(db, LineSupportMessage.created_at, old.user_id, 29)
    _age(db, LineEvent.received_at, recent.user_id, 27)
    _age(db, LineInboxEntry.received_at, old.user_id, 29)
    result = purge_expired(db)
    db.commit()

    assert result.line_events == old_events
    assert result.line_inbox == old_events  # the inbox rows those events came through
    assert (result.line_conversations, result.line_support_messages) == (1, 1)
    db.expire_all()
    assert {e.line_user_id for e in db.scalars(select(LineEvent))} == {recent.user_id}
    assert {e.line_user_id for e in db.scalars(select(LineInboxEntry))} == {recent.user_id}
    assert [c.line_user_id for c in db.scalars(select(LineConversation))] == [recent.user_id]
    assert [m.text for m in db.scalars(select(LineSupportMessage))] == ["請問如何申請"]
    assert [b.line_user_id for b in db.scalars(select(LineBinding))] == [old.user_id]
    purge = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).one()
    assert purge.details["line_events"] == old_events
    # the bound user still uses the chat after the purge: a new event is handled once
    assert old.tap("a=register")[0]["text"].startswith("您已完成綁定")


def test_purge_window_follows_the_retention_setting(
    client: TestClient, standin: StandIn, hub: Hub, db: Session, app: object
) -> None:
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=support")
    chat.say("三天前的訊息")
    _age(db, LineSupportMessage.created_at, chat.user_id, 3)
    assert purge_expired(db).line_support_messages == 0
    context = app.state.context  # type: ignore[attr-defined]
    context.settings = context.settings.model_copy(update={"retention_days": 2})
    assert purge_expired(db).line_support_messages == 1
    db.commit()
    assert _count(db, LineSupportMessage) == 0
