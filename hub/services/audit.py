"""Writing to the append-only audit log (in the caller's transaction, so no action goes unrecorded).

Reading it, through filters, is `hub.services.audit_search`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models.audit import AuditEvent
from hub.models.identity import User

# One INSERT into the table, built once and sent at once: an audit event is never read back as an object
# in the transaction that writes it, and the ORM's unit of work (an object, its state, a flush at commit)
# cost 2.5 times as much CPU per event as this statement (docs/deploy.md, "The audit write"). Column
# defaults (`at`) still apply.
_INSERT = insert(AuditEvent.__table__)


def record(
    db: Session,
    action: str,
    *,
    actor: User | None = None,
    target: str | None = None,
    client_ip: str | None = None,
    subjects: Iterable[str] = (),
    **details: Any,
) -> int:
    """Write an audit event now, in the caller's transaction; its id. `details` must hold no personal
    data in clear (masked values, ids, counts).

    `subjects`: the mobiles (E.164) of the people whose personal data a read showed, so that each of them
    can later see the read (hub.services.data_reads). Kept as `details["subjects"]`, keyed hashes only,
    sorted and without repeats; a read of one page of many people names every one of them."""
    keys = {context_of(db).protector.subject_hash(m) for m in subjects if m}
    if keys:
        details["subjects"] = sorted(keys)
    written = db.execute(
        _INSERT,
        {
            "action": action,
            "actor_user_id": actor.id if actor is not None else None,
            "actor_role": actor.role if actor is not None else None,
            "target": target,
            "details": details,
            "client_ip": client_ip,
        },
    )
    return int(written.inserted_primary_key[0])
