"""Writing to the append-only audit log (in the caller's transaction, so no action goes unrecorded).

Reading it, through filters, is `hub.services.audit_search`.

An event is written before the transaction's next statement, or at its commit: as the ORM wrote the
`AuditEvent` objects this module used to add (it flushed them before a query). Not where it is recorded:
on SQLite the first write of a transaction takes the database's one write lock until the commit, and an
event written at once would hold that lock through whatever the request does next (a pass sheet's PDF, a
register's .xlsx), keeping every check-in and scan upload waiting. What changed is the cost: one
prebuilt INSERT, not an object tracked by the ORM's unit of work (2.5 times as much CPU an event:
docs/deploy.md, "The audit write").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from hub.context import context_of
from hub.models.audit import AuditEvent
from hub.models.identity import User

_INSERT = insert(AuditEvent.__table__)  # column defaults (`at`) still apply
# The session's events not yet written, each with the transaction (or savepoint) it was recorded in.
_PENDING = "hub.audit.pending"


def record(
    db: Session,
    action: str,
    *,
    actor: User | None = None,
    target: str | None = None,
    client_ip: str | None = None,
    subjects: Iterable[str] = (),
    **details: Any,
) -> None:
    """Add an audit event to the caller's transaction: written before its next statement or at its
    commit, gone if it rolls back.
    `details` must hold no personal data in clear (masked values, ids, counts).

    `subjects`: the mobiles (E.164) of the people whose personal data a read showed, so that each of them
    can later see the read (hub.services.data_reads). Kept as `details["subjects"]`, keyed hashes only,
    sorted and without repeats; a read of one page of many people names every one of them."""
    keys = {context_of(db).protector.subject_hash(m) for m in subjects if m}
    if keys:
        details["subjects"] = sorted(keys)
    row = {
        "action": action,
        "actor_user_id": actor.id if actor is not None else None,
        "actor_role": actor.role if actor is not None else None,
        "target": target,
        "details": details,
        "client_ip": client_ip,
    }
    # begun here if nothing has been (no I/O): a rollback or close then ends it and takes the event back
    within = db.get_nested_transaction() or db.get_transaction() or db.begin()
    db.info.setdefault(_PENDING, []).append((within, row))


def write_pending(db: Session) -> None:
    """Write the session's recorded events now, inside its open transaction (a commit does this itself)."""
    pending = db.info.pop(_PENDING, None)
    if pending:
        rows = [row for _within, row in pending]
        db.execute(_INSERT, rows[0] if len(rows) == 1 else rows)


@event.listens_for(Session, "do_orm_execute")
def _written_before_a_statement(state: ORMExecuteState) -> None:
    """As the ORM flushed its objects before a query: what the transaction recorded, its own statements
    see. Not inside a savepoint: an event recorded before it must not be written where a rollback of the
    savepoint would take it back; it waits for the next statement outside, or the commit."""
    session = state.session
    if session.info.get(_PENDING) and not session.in_nested_transaction():
        write_pending(session)


@event.listens_for(Session, "before_commit")
def _written_at_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not the commit
        write_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _taken_back(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back savepoint takes back the events recorded inside it; the whole transaction, all."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(within, row) for within, row in pending if not _inside(within, previous)]


@event.listens_for(Session, "after_transaction_end")
def _forgotten(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (written) or closed without a commit (never written)
        session.info.pop(_PENDING, None)


def _inside(within: SessionTransaction, transaction: SessionTransaction) -> bool:
    """`within` is `transaction` or a savepoint inside it (every event's chain reaches the root)."""
    step: SessionTransaction | None = within
    while step is not None:
        if step is transaction:
            return True
        step = step.parent
    return False
