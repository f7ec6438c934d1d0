"""Rules shared by the two whitelists (enterprise employees, station duty officers): an entry's
identifying fields are unique within its organisation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.services.errors import Conflict

# A duplicate's `what` -> the catalogue field its message names (refusal.duplicate.<field>).
_FIELD_OF = {"national ID": "national_id", "number": "officer_number"}


def refuse_repeats(
    db: Session,
    entry: Any,
    scope: Any,
    fields: Sequence[tuple[Any, str, str]],
    *,
    who: str,
    exclude: int | None = None,
) -> None:
    """409 if another `entry` row in `scope` (a column == value clause) has any of `fields`
    ((column, value, what) triples); `exclude` is the id of the row being edited."""
    for column, value, what in fields:
        query = select(entry.id).where(scope, column == value)
        if exclude is not None:
            query = query.where(entry.id != exclude)
        if db.scalars(query).first() is not None:
            raise Conflict(
                reason="duplicate",
                detail=f"{who} with this {what} is on the whitelist",
                message_key=f"refusal.duplicate.{_FIELD_OF.get(what, what)}",
            )
