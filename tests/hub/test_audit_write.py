"""When an audit event reaches the table (hub.services.audit): at its transaction's commit, never after a
rollback, and without taking SQLite's write lock before then."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models.audit import AuditEvent
from hub.services import audit


def _actions(app: Any) -> list[str]:
    with app.state.sessionmaker() as other:
        return list(other.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_event_is_written_at_commit_with_its_time_and_details(db: Session, app: Any) -> None:
    audit.record(db, "test.one", target="employee:1", client_ip="10.0.0.1", page=2, masked="陳*明")
    assert _actions(app) == []  # recorded, not yet committed
    db.commit()
    event = db.scalars(select(AuditEvent)).one()
    assert (event.action, event.target, event.client_ip) == ("test.one", "employee:1", "10.0.0.1")
    assert event.details == {"page": 2, "masked": "陳*明"} and event.at is not None
    db.commit()  # a second commit writes it no second time
    assert _actions(app) == ["test.one"]


def test_a_rollback_takes_events_back_and_a_later_commit_does_not_bring_them(db: Session, app: Any) -> None:
    audit.record(db, "test.refused")
    db.rollback()
    audit.record(db, "test.after")
    db.commit()
    assert _actions(app) == ["test.after"]


def test_a_closed_session_forgets_what_it_did_not_commit(app: Any) -> None:
    session = app.state.sessionmaker()
    audit.record(session, "test.abandoned")
    session.close()
    audit.record(session, "test.next")  # the same session object, used again
    session.commit()
    session.close()
    assert _actions(app) == ["test.next"]


def test_a_rolled_back_savepoint_takes_back_only_its_own_events(db: Session, app: Any) -> None:
    audit.record(db, "test.before")
    with pytest.raises(RuntimeError), db.begin_nested():
        audit.record(db, "test.inside_refused")
        raise RuntimeError
    with db.begin_nested():
        audit.record(db, "test.inside_kept")
    audit.record(db, "test.after")
    db.commit()
    assert _actions(app) == ["test.before", "test.inside_kept", "test.after"]


def test_several_events_of_one_transaction_are_all_written_in_order(db: Session, app: Any) -> None:
    for n in range(5):
        audit.record(db, f"test.n{n}")
    db.commit()
    assert _actions(app) == [f"test.n{n}" for n in range(5)]


def test_recording_an_event_does_not_hold_other_writers_off(db: Session, app: Any) -> None:
    """A request records its read, then renders a PDF or an .xlsx: on SQLite the first write of a
    transaction holds every other writer off until the commit, so the event must not be that write."""
    audit.record(db, "test.read")
    done = threading.Event()

    def another_request() -> None:
        with app.state.sessionmaker() as other:
            audit.record(other, "test.other")
            other.commit()
        done.set()

    writer = threading.Thread(target=another_request)
    writer.start()
    writer.join(timeout=10)
    assert done.is_set(), "another writer waited for a transaction that had only recorded an event"
    db.commit()
    assert _actions(app) == ["test.other", "test.read"]


def test_the_transaction_s_own_statements_see_what_it_recorded(db: Session, app: Any) -> None:
    audit.record(db, "test.seen")
    assert db.scalar(select(AuditEvent.action)) == "test.seen"  # as the ORM's flush before a query did
    assert _actions(app) == []  # and still no one else's until the commit
    db.commit()
    assert _actions(app) == ["test.seen"]


def test_an_event_recorded_before_a_savepoint_outlives_the_savepoint_s_rollback(
    db: Session, app: Any
) -> None:
    audit.record(db, "test.before")
    with pytest.raises(RuntimeError), db.begin_nested():
        db.execute(select(AuditEvent.id)).all()  # a statement inside the savepoint
        raise RuntimeError
    db.commit()
    assert _actions(app) == ["test.before"]
