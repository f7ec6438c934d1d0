"""The LINE inbox (hub/jobs/line_inbox.py): stored and answered 200 before anything is handled; handled once,
in order per LINE user, by whichever hub process takes a row; redeliveries stored once; an expired reply
token answered by push with the event's retry key; nothing lost when a process dies."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from hub.db import utcnow
from hub.line.delivery import retry_key
from hub.main import create_app
from hub.models.line import ChannelName, LineEvent
from hub.models.line_inbox import LineInboxEntry
from tests.hub.line.linekit import TOKENS, LineChat, body_of, drained, line_user_id, make_event

FAQ_KEYS = ("venue_code", "employee_pass", "how_to_use", "many_passes")


def _paused(client: TestClient) -> None:
    """This process's inbox worker stops taking rows (the webhook still stores them)."""
    client.portal.call(client.app.state.line.inbox.stop)  # type: ignore[attr-defined]


def _resumed(client: TestClient) -> None:
    client.portal.call(client.app.state.line.inbox.start)  # type: ignore[attr-defined]


def _inbox(db: Session) -> list[LineInboxEntry]:
    db.expire_all()
    return list(db.scalars(select(LineInboxEntry).order_by(LineInboxEntry.id)))


def _pending(db: Session) -> int:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(LineInboxEntry).where(LineInboxEntry.done_at.is_(None)))
        or 0
    )


@contextmanager
def _another_process(settings: Settings) -> Iterator[TestClient]:
    """A second hub on the same database (its own app, event loop and inbox worker)."""
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.engine.dispose()


def test_a_webhook_is_stored_and_answered_before_anything_is_handled(
    client: TestClient, standin: StandIn, db: Session
) -> None:
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=support")  # the step "詢問客服": the next text is a message for a human
    _paused(client)
    standin.reset_calls()
    event = make_event(
        "message", chat.user_id, reply_token=standin.issue_reply_token("enterprise"), text="hi"
    )
    assert chat.post(body_of(event)).status_code == 200

    [_tap, stored] = _inbox(db)
    assert (stored.kind, stored.content, stored.done_at) == ("text", "hi", None)
    assert standin.calls() == []  # nothing handled, nothing sent
    assert db.scalar(select(func.count()).select_from(LineEvent)) == 1  # the tap's only

    _resumed(client)
    drained(client)
    answers = chat.answers(0)
    assert [m["text"] for m in answers] == ["已收到您的訊息，客服人員將盡快與您聯繫。"]
    done = _inbox(db)
    assert all(row.done_at is not None for row in done)
    # a person's words and the reply token are not kept once the event is done
    assert [(row.content, row.reply_token, row.lease_owner) for row in done] == [(None, None, None)] * 2


def test_two_processes_racing_answer_every_event_once_and_each_user_in_order(
    client: TestClient, standin: StandIn, db: Session, settings: Settings
) -> None:
    with _another_process(settings) as other:
        _paused(client)
        _paused(other)
        users = [line_user_id() for _ in range(4)]
        order: dict[str, list[str]] = {user: [] for user in users}
        for round_ in range(6):
            for index, user in enumerate(users):
                token = standin.issue_reply_token("enterprise")
                order[user].append(token)
                data = f"a=faq&q={FAQ_KEYS[round_ % len(FAQ_KEYS)]}"
                event = make_event("postback", user, reply_token=token, data=data)
                chat = LineChat((client, other)[(round_ + index) % 2], standin, "enterprise", user)
                assert chat.post(body_of(event)).status_code == 200
        assert _pending(db) == 24 and standin.calls() == []

        _resumed(client)
        _resumed(other)  # both workers take rows from the same inbox at once
        while _pending(db):
            drained(client)
            drained(other)

    replies = standin.calls("enterprise", "replyMessage")
    assert [c.status for c in replies] == [200] * 24
    assert standin.calls("enterprise", "pushMessage") == []
    for user in users:
        got = [c.body["replyToken"] for c in replies if c.body["replyToken"] in order[user]]
        assert got == order[user]  # exactly once each, in the order the user sent them
    assert db.scalar(select(func.count()).select_from(LineEvent)) == 24


def test_a_redelivered_event_is_stored_once_and_answered_once(
    client: TestClient, standin: StandIn, db: Session
) -> None:
    _paused(client)
    chat = LineChat(client, standin, "police")
    event = make_event("follow", chat.user_id, reply_token=standin.issue_reply_token("police"))
    assert chat.post(body_of(event)).status_code == 200
    again = dict(
        event, deliveryContext={"isRedelivery": True}, replyToken=standin.issue_reply_token("police")
    )
    assert chat.post(body_of(again)).status_code == 200
    assert len(_inbox(db)) == 1
    _resumed(client)
    drained(client)
    assert chat.post(body_of(again)).status_code == 200  # and once more after it was handled
    drained(client)
    assert len(_inbox(db)) == 1
    sent = chat.answers(0)
    assert len(sent) == 1 and sent[0]["text"].startswith("您好！")


def test_an_expired_reply_token_is_not_used_and_the_answer_goes_once_by_push_with_the_retry_key(
    client: TestClient, standin: StandIn, db: Session
) -> None:
    _paused(client)
    chat = LineChat(client, standin, "police")
    event = make_event("follow", chat.user_id, reply_token=standin.issue_reply_token("police"))
    assert chat.post(body_of(event)).status_code == 200
    # the hub was busy: the event waited in the inbox longer than LINE keeps a reply token
    db.execute(update(LineInboxEntry).values(received_at=utcnow() - dt.timedelta(minutes=2)))
    db.commit()
    _resumed(client)
    drained(client)

    assert standin.calls("police", "replyMessage") == []
    [push] = standin.calls("police", "pushMessage")
    assert push.status == 200 and push.body["to"] == chat.user_id
    key = retry_key(ChannelName.POLICE, event["webhookEventId"])
    assert push.headers.get("X-Line-Retry-Key") == key

    # A worker died after LINE took the push but before the row was marked: the next one pushes again
    # with the same key, LINE refuses it (409) and the person still has one greeting.
    db.execute(update(LineInboxEntry).values(done_at=None, attempts=1))
    db.execute(update(LineEvent).values(delivered_at=None))
    db.commit()
    drained(client)
    assert [c.status for c in standin.calls("police", "pushMessage")] == [200, 409]
    assert len(standin.sent_messages("police", chat.user_id)) == 1
    assert _pending(db) == 0
    db.expire_all()
    assert db.scalars(select(LineEvent)).one().delivered_at is not None


def test_the_stand_in_delivers_a_push_once_per_retry_key(standin: StandIn) -> None:
    user = line_user_id()
    body = {"to": user, "messages": [{"type": "text", "text": "一次"}]}
    headers = {
        "Authorization": f"Bearer {TOKENS['enterprise']}",
        "X-Line-Retry-Key": retry_key(ChannelName.ENTERPRISE, "01TESTEVENT"),
    }
    first = httpx.post(f"{standin.url}/v2/bot/message/push", json=body, headers=headers)
    second = httpx.post(f"{standin.url}/v2/bot/message/push", json=body, headers=headers)
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert standin.sent_messages("enterprise", user) == [{"type": "text", "text": "一次"}]
    # another key is another message
    headers["X-Line-Retry-Key"] = retry_key(ChannelName.ENTERPRISE, "01OTHEREVENT")
    assert httpx.post(f"{standin.url}/v2/bot/message/push", json=body, headers=headers).status_code == 200
    assert len(standin.sent_messages("enterprise", user)) == 2


def test_a_restarted_process_works_off_what_a_dead_one_stored_and_held(
    client: TestClient, standin: StandIn, db: Session, settings: Settings
) -> None:
    # The first process stored three events and died: one row it had taken (its lease still running),
    # the same user's next one behind it, and another user's that nobody had taken.
    _paused(client)
    alice = LineChat(client, standin, "enterprise")
    bob = LineChat(client, standin, "enterprise")
    tokens: dict[str, Any] = {}
    for name, chat, data in (
        ("a1", alice, "a=faq&q=venue_code"),
        ("a2", alice, "a=faq&q=employee_pass"),
        ("b1", bob, "a=faq&q=how_to_use"),
    ):
        tokens[name] = standin.issue_reply_token("enterprise")
        event = make_event("postback", chat.user_id, reply_token=tokens[name], data=data)
        assert chat.post(body_of(event)).status_code == 200
    first = _inbox(db)[0]
    first.lease_owner, first.lease_until = "dead-host:4242:0000", utcnow() + dt.timedelta(seconds=60)
    db.commit()

    with _another_process(settings) as restarted:
        drained(restarted)  # taken at start, without a webhook to wake it
        replied = [c.body["replyToken"] for c in standin.calls("enterprise", "replyMessage")]
        assert replied == [tokens["b1"]]  # alice's events wait for the dead worker's lease
        db.execute(update(LineInboxEntry).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
        db.commit()  # the lease ran out
        drained(restarted)
    replied = [c.body["replyToken"] for c in standin.calls("enterprise", "replyMessage")]
    assert replied == [tokens["b1"], tokens["a1"], tokens["a2"]]
    assert _pending(db) == 0


def test_an_answer_taken_by_line_is_not_sent_again_when_marking_it_meets_a_database_restart(
    client: TestClient, standin: StandIn, db: Session
) -> None:
    """LINE took the reply, then the database refused the UPDATE that marks the row done (PostgreSQL
    restarting, as deploy/rehearsal/field.py does): the worker waits the database out under its lease
    instead of leaving the row to be taken again and answered a second time by push."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    engine = client.app.state.engine  # type: ignore[attr-defined]
    refused: list[str] = []

    def restarting(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        marks_done = (
            statement.startswith("UPDATE line_inbox SET") and "done_at=" in statement.split("WHERE")[0]
        )
        if marks_done and len(refused) < 2:
            refused.append(statement)
            raise OperationalError(statement, {}, Exception("the database system is shutting down"))

    chat = LineChat(client, standin, "enterprise")
    standin.reset_calls()
    event.listen(engine, "before_cursor_execute", restarting)
    try:
        event_body = make_event(
            "postback",
            chat.user_id,
            reply_token=standin.issue_reply_token("enterprise"),
            data="a=faq&q=how_to_use",
        )
        assert chat.post(body_of(event_body)).status_code == 200
        drained(client)
    finally:
        event.remove(engine, "before_cursor_execute", restarting)
    assert len(refused) == 2
    assert len(standin.answers("enterprise")) == 1
    assert _pending(db) == 0


def _expire_leases(db: Session) -> None:
    db.execute(update(LineInboxEntry).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    db.commit()


def _one_faq_tap(client: TestClient, standin: StandIn) -> str:
    """A new user taps one FAQ question; the hub has stored and worked it. Its reply token."""
    chat = LineChat(client, standin, "enterprise")
    standin.reset_calls()
    token = standin.issue_reply_token("enterprise")
    event = make_event("postback", chat.user_id, reply_token=token, data="a=faq&q=how_to_use")
    assert chat.post(body_of(event)).status_code == 200
    drained(client)
    return token


def test_a_worker_that_died_after_line_took_its_reply_is_not_answered_twice(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """LINE took the reply and the worker died before marking the row: the next holder, within the
    token's life, tries the same token; LINE refuses it as spent, so nothing is pushed."""
    inbox = client.app.state.line.inbox  # type: ignore[attr-defined]

    async def died(entry_id: int, also: Any) -> None:
        return None

    monkeypatch.setattr(inbox, "_mark_done", died)
    token = _one_faq_tap(client, standin)
    assert len(standin.answers("enterprise")) == 1 and _pending(db) == 1
    monkeypatch.undo()
    _expire_leases(db)
    drained(client)
    assert [c.body["replyToken"] for c in standin.calls("enterprise", "replyMessage")] == [token, token]
    assert standin.calls("enterprise", "pushMessage") == []
    assert len(standin.answers("enterprise")) == 1
    assert _pending(db) == 0


def test_a_worker_that_died_before_its_reply_reached_line_is_answered_once_by_the_next(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """The event was handled and committed, then the worker died before the reply left: the next holder
    replies with the same token, which LINE takes: one answer, the event handled once."""
    from hub.jobs.line_inbox import Outcome, Result

    line = client.app.state.line  # type: ignore[attr-defined]

    async def handled_then_died(entry: Any) -> Outcome:
        await asyncio.to_thread(line._handle_once, entry)
        return Outcome(Result.LOST)  # the row keeps the dead worker's lease

    monkeypatch.setattr(line.inbox, "process", handled_then_died)
    token = _one_faq_tap(client, standin)
    assert standin.answers("enterprise") == [] and _pending(db) == 1
    monkeypatch.undo()
    _expire_leases(db)
    drained(client)
    assert [c.body["replyToken"] for c in standin.calls("enterprise", "replyMessage")] == [token]
    assert len(standin.answers("enterprise")) == 1
    assert db.scalar(select(func.count()).select_from(LineEvent)) == 1
    assert _pending(db) == 0


def test_a_menu_link_line_does_not_answer_leaves_the_answer_sent_once(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """The reply went, then linking the person's menu got no answer from LINE (an outage that hangs):
    the menu is a shortcut, so the row is still done and the answer is not pushed a second time."""
    import aiohttp
    from linebot.v3.messaging import AsyncMessagingApi

    from hub.line import delivery

    async def hangs(*args: Any, **kwargs: Any) -> None:
        raise aiohttp.ServerTimeoutError("LINE did not answer")

    monkeypatch.setattr(AsyncMessagingApi, "unlink_rich_menu_id_from_user", hangs)
    monkeypatch.setattr(delivery, "BASE_DELAY", 0.001)
    monkeypatch.setattr(delivery, "MAX_DELAY", 0.002)
    chat = LineChat(client, standin, "enterprise")
    standin.reset_calls()
    token = standin.issue_reply_token("enterprise")
    assert chat.post(body_of(make_event("follow", chat.user_id, reply_token=token))).status_code == 200
    drained(client)
    assert _pending(db) == 0
    _expire_leases(db)
    drained(client)
    assert len(standin.answers("enterprise")) == 1
    assert standin.calls("enterprise", "pushMessage") == []


def _taps(client: TestClient, standin: StandIn, *users: LineChat) -> list[str]:
    """Each of `users` taps one FAQ question, in this order, while the worker is paused; their tokens."""
    _paused(client)
    tokens = []
    for index, chat in enumerate(users):
        token = standin.issue_reply_token("enterprise")
        data = f"a=faq&q={FAQ_KEYS[index % len(FAQ_KEYS)]}"
        event = make_event("postback", chat.user_id, reply_token=token, data=data)
        assert chat.post(body_of(event)).status_code == 200
        tokens.append(token)
    return tokens


def _replied(standin: StandIn) -> list[str]:
    return [c.body["replyToken"] for c in standin.calls("enterprise", "replyMessage") if c.status == 200]


def test_a_row_whose_reply_never_returns_is_let_go_at_its_deadline_and_answered_once_in_order(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """A call to LINE that never comes back (the field rehearsal's hold, hub/jobs/line_inbox.py): the worker
    cuts the attempt at HUB_LINE_INBOX_ATTEMPT_SECONDS and lets go of the row; the next try replies with
    the same reply token (still fresh), the user's next event follows, the other user is not held."""
    line = client.app.state.line  # type: ignore[attr-defined]
    assert line.inbox.attempt_seconds == client.app.state.settings.line_inbox_attempt_seconds  # type: ignore[attr-defined]
    monkeypatch.setattr(line.inbox, "attempt_seconds", 0.5)
    alice = LineChat(client, standin, "enterprise")
    bob = LineChat(client, standin, "enterprise")
    standin.reset_calls()
    a1, a2, b1 = _taps(client, standin, alice, alice, bob)
    reply = line.sender.reply
    hung: list[str] = []

    async def never_returns_once(channel: Any, token: str, messages: Any) -> Any:
        if token == a1 and not hung:
            hung.append("hung")
            try:  # capped, so a worker that never lets go fails this test instead of hanging it
                await asyncio.wait_for(asyncio.Event().wait(), 10)
            except asyncio.CancelledError:
                hung.append("cut")
                raise
        return await reply(channel, token, messages)

    monkeypatch.setattr(line.sender, "reply", never_returns_once)
    _resumed(client)
    drained(client)

    assert hung == ["hung", "cut"]
    replied = _replied(standin)
    assert [t for t in replied if t in (a1, a2)] == [a1, a2]  # once each, in the order alice sent them
    assert replied.count(b1) == 1
    assert standin.calls("enterprise", "pushMessage") == []
    assert db.scalar(select(func.count()).select_from(LineEvent)) == 3
    assert _pending(db) == 0


def test_a_row_its_worker_could_neither_handle_nor_put_back_is_not_kept_by_the_renewal(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """The field rehearsal's hold (docs/deploy.md): PostgreSQL restarting refused both the handling of
    a row and the UPDATE that puts it back for later, so the row's attempt ended with the row still
    leased to its worker, and the renewal, which renewed every row leased to the worker while any other
    row was in hand, kept it for minutes. Only rows whose work runs are renewed: the row comes back
    when its lease runs out, while another user's row is still in hand."""
    from sqlalchemy.exc import OperationalError

    line = client.app.state.line  # type: ignore[attr-defined]
    inbox = line.inbox
    monkeypatch.setattr(inbox, "lease_seconds", 0.4)
    monkeypatch.setattr(inbox, "poll_seconds", 0.02)
    alice = LineChat(client, standin, "enterprise")
    bob = LineChat(client, standin, "enterprise")
    standin.reset_calls()
    a1, b1 = _taps(client, standin, alice, bob)
    refused: list[str] = []
    handle_once, retry_later, reply = line._handle_once, inbox.retry_later, line.sender.reply

    def restarting(what: str, call: Any) -> Any:
        def refuse(entry: Any, *rest: Any) -> Any:
            if entry.reply_token == a1 and what not in refused:
                refused.append(what)
                raise OperationalError(what, {}, Exception("the database system is shutting down"))
            return call(entry, *rest)

        return refuse

    waited: list[bool] = []

    async def bob_in_hand_until_alice_is_answered(channel: Any, token: str, messages: Any) -> Any:
        if token == b1:
            for _ in range(500):  # at most 5 s: the lease is 0.4 s
                if a1 in _replied(standin):
                    break
                await asyncio.sleep(0.01)
            waited.append(a1 in _replied(standin))
        return await reply(channel, token, messages)

    monkeypatch.setattr(line, "_handle_once", restarting("handle", handle_once))
    monkeypatch.setattr(inbox, "retry_later", restarting("retry_later", retry_later))
    monkeypatch.setattr(line.sender, "reply", bob_in_hand_until_alice_is_answered)
    _resumed(client)
    drained(client)

    assert refused == ["handle", "retry_later"]
    assert waited == [True]  # alice answered while bob's row was still in hand
    assert _replied(standin).count(a1) == 1 and _replied(standin).count(b1) == 1
    assert standin.calls("enterprise", "pushMessage") == []
    assert _pending(db) == 0


def test_a_menu_link_that_never_returns_is_cut_off_without_the_answer_going_twice(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """The rich-menu link after the answer gets what is left of the attempt's deadline: cut off there it
    is dropped and the row is done, not let go for a second try at the answer."""
    line = client.app.state.line  # type: ignore[attr-defined]
    monkeypatch.setattr(line.inbox, "attempt_seconds", 0.5)
    linked: list[str] = []

    async def never_returns(*args: Any) -> None:
        linked.append("hung")
        try:  # capped, so a worker that never cuts it off fails this test instead of hanging it
            await asyncio.wait_for(asyncio.Event().wait(), 10)
        except asyncio.CancelledError:
            linked.append("cut")
            raise

    monkeypatch.setattr(line.menus, "show", never_returns)
    chat = LineChat(client, standin, "police")
    standin.reset_calls()
    token = standin.issue_reply_token("police")
    assert chat.post(body_of(make_event("follow", chat.user_id, reply_token=token))).status_code == 200
    drained(client)
    assert linked == ["hung", "cut"]
    assert [c.body["replyToken"] for c in standin.calls("police", "replyMessage")] == [token]
    assert standin.calls("police", "pushMessage") == []
    assert _pending(db) == 0


def test_events_reach_the_worker_through_the_store_and_the_previous_mark_not_the_search(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """The search over all pending rows is not what moves events along (it ran once per event and cost
    more as the backlog grew, hub/jobs/line_inbox.py): a stored row that is its user's next is taken by
    the webhook's own transaction, and a user's next row by the mark of the one before it. With the
    periodic search put a minute away, two users' quick taps are all answered at once, each user's in
    order, and the search takes nothing."""
    import threading
    import time

    inbox = client.app.state.line.inbox  # type: ignore[attr-defined]
    drained(client)
    monkeypatch.setattr(inbox, "poll_seconds", 60.0)
    searched: list[int] = []
    claim = inbox.claim

    def counted(limit: int) -> Any:
        taken = claim(limit)
        searched.append(len(taken))
        return taken

    monkeypatch.setattr(inbox, "claim", counted)
    alice = LineChat(client, standin, "enterprise")
    bob = LineChat(client, standin, "enterprise")
    standin.reset_calls()
    order: dict[str, list[str]] = {alice.user_id: [], bob.user_id: []}
    # alice's first answer waits until every tap is stored: her next ones can only come by its mark
    line = client.app.state.line  # type: ignore[attr-defined]
    reply, all_stored = line.sender.reply, threading.Event()

    async def first_waits(channel: Any, token: str, messages: Any) -> Any:
        while token == order[alice.user_id][0] and not all_stored.is_set():
            await asyncio.sleep(0.01)
        return await reply(channel, token, messages)

    monkeypatch.setattr(line.sender, "reply", first_waits)
    for round_ in range(3):
        for chat in (alice, bob):
            token = standin.issue_reply_token("enterprise")
            order[chat.user_id].append(token)
            data = f"a=faq&q={FAQ_KEYS[round_ % len(FAQ_KEYS)]}"
            assert (
                chat.post(
                    body_of(make_event("postback", chat.user_id, reply_token=token, data=data))
                ).status_code
                == 200
            )
    all_stored.set()
    deadline = time.monotonic() + 20  # the periodic search would come after 60 s
    while (len(_replied(standin)) < 6 or _pending(db)) and time.monotonic() < deadline:
        time.sleep(0.02)
    replied = _replied(standin)
    for tokens in order.values():
        assert [t for t in replied if t in tokens] == tokens  # each once, in the user's order
    assert sum(searched) == 0
    assert _pending(db) == 0


def test_a_stop_whose_cancellation_the_workers_wait_loses_still_ends_the_worker(
    app: Any, monkeypatch: Any
) -> None:
    """Python 3.11's asyncio.wait_for returns the result instead of raising when the cancellation comes
    just as its wait ends (a wake at that moment): the worker loop must end on `stop` all the same, or
    the hub's shutdown waits for it for ever (seen once in CI, a test's teardown hung 600 s)."""
    import threading
    import types

    from hub.jobs import line_inbox

    real = asyncio.wait_for

    async def loses_the_cancel(awaitable: Any, timeout: float | None) -> Any:
        try:
            return await real(awaitable, timeout)
        except asyncio.CancelledError:
            return True  # the wait's result won the race with the cancellation

    lossy = types.SimpleNamespace(
        **{name: getattr(asyncio, name) for name in dir(asyncio) if not name.startswith("__")}
    )
    lossy.wait_for = loses_the_cancel
    monkeypatch.setattr(line_inbox, "asyncio", lossy)
    inbox = app.state.line.inbox

    async def start_then_stop() -> None:
        inbox.start()
        await asyncio.sleep(0.05)  # the worker is in its wait for a wake
        await inbox.stop()

    # In a thread of its own: a worker that does not end keeps `stop` waiting, and the test must fail,
    # not hang with it.
    stopped = threading.Thread(target=asyncio.run, args=(start_then_stop(),), daemon=True)
    stopped.start()
    stopped.join(15)
    assert not stopped.is_alive(), "stop() still waits for the worker loop"


def test_a_process_works_on_as_many_users_at_once_as_configured_and_no_more(
    settings: Settings, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """HUB_LINE_INBOX_PARALLEL: with LINE slow to take replies, a process has that many rows in hand, not
    more (each is a lease another process cannot take), and works the rest off as rows come free. On
    PostgreSQL the search once took 7 rows for a room of 3 (hub/jobs/line_inbox.py: picked once)."""
    settings = settings.model_copy(update={"line_inbox_parallel": 3})
    with _another_process(settings) as client:
        line = client.app.state.line  # type: ignore[attr-defined]
        assert line.inbox.parallel == 3
        chats = [LineChat(client, standin, "enterprise") for _ in range(7)]
        standin.reset_calls()
        tokens = _taps(client, standin, *chats)
        reply = line.sender.reply
        in_hand: list[int] = []
        now = 0

        async def slow_line(channel: Any, token: str, messages: Any) -> Any:
            nonlocal now
            now += 1
            in_hand.append(now)
            try:
                await asyncio.sleep(0.2)
                return await reply(channel, token, messages)
            finally:
                now -= 1

        monkeypatch.setattr(line.sender, "reply", slow_line)
        _resumed(client)
        drained(client)
    assert max(in_hand) == 3
    assert sorted(_replied(standin)) == sorted(tokens)
    assert _pending(db) == 0


def test_a_lease_taken_over_while_the_row_is_handled_leaves_nothing_of_the_handling(
    client: TestClient, standin: StandIn, db: Session, monkeypatch: Any
) -> None:
    """Another worker takes the row over (its lease ran out) while this one is in the chat's handling.
    SQLite: the handling holds no write lock (Inbox.hold only reads; the write lock, which limited two
    processes to one handling at a time, is taken by Inbox.keep after it), so the takeover goes through,
    and the check under the write lock at the end finds the row no longer this worker's: nothing is
    recorded, nothing is answered. PostgreSQL: the row is locked from the start, the takeover waits."""
    from sqlalchemy.exc import OperationalError

    import hub.line.webhook as webhook

    line = client.app.state.line  # type: ignore[attr-defined]
    _paused(client)
    chat = LineChat(client, standin, "enterprise")
    token = standin.issue_reply_token("enterprise")
    event = make_event("postback", chat.user_id, reply_token=token, data="a=faq&q=how_to_use")
    assert chat.post(body_of(event)).status_code == 200
    (entry,) = line.inbox.claim(1)
    postgres = db.get_bind().dialect.name == "postgresql"
    real_handle = webhook.handle
    took_over: list[bool] = []

    def taken_over_meanwhile(session: Session, incoming: Any) -> Any:
        try:
            if postgres:
                db.execute(text("SET LOCAL lock_timeout = '300ms'"))
            db.execute(
                update(LineInboxEntry)
                .where(LineInboxEntry.id == entry.id)
                .values(lease_owner="another-worker", lease_until=utcnow() + dt.timedelta(seconds=30))
            )
            db.commit()
            took_over.append(True)
        except OperationalError:
            db.rollback()
            took_over.append(False)
        return real_handle(session, incoming)

    monkeypatch.setattr(webhook, "handle", taken_over_meanwhile)
    todo = line._handle_once(entry)
    assert took_over == [not postgres]
    if postgres:
        assert todo is not None and todo.messages
        assert db.scalar(select(func.count()).select_from(LineEvent)) == 1
    else:
        assert todo is None
        assert db.scalar(select(func.count()).select_from(LineEvent)) == 0
        db.expire_all()
        assert db.get(LineInboxEntry, entry.id).lease_owner == "another-worker"  # type: ignore[union-attr]
    assert standin.answers("enterprise") == []
