"""The hub's import policy for uploaded .xlsx whitelists; reading and checking cells is
hub.documents.spreadsheets' job.

Imports are all-or-nothing: every row is checked first (by hub.documents.spreadsheets, then by the same
request model the one-by-one endpoint uses), and the whole file is refused with a per-row report if any
row is wrong, so an operator fixes the file and uploads it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hub.documents.spreadsheets import ColumnSpec, SpreadsheetError, read_rows
from hub.i18n import catalogue, refusals
from hub.models.identity import User
from hub.services.errors import DomainError, Invalid, Rejected

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RowProblem:
    """One refused row as the API reports it: keyed by request field, where the reader's
    spreadsheets.RowError is keyed by column label."""

    row: int  # spreadsheet row number, as Excel shows it
    field: str | None  # the request field ("mobile"), None for a whole-row problem
    error: str  # personal data in it is masked

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "error": self.error}


def read_import(
    data: bytes, columns: Sequence[ColumnSpec], model: type[M]
) -> tuple[list[tuple[int, M]], list[RowProblem], int]:
    """(good rows as `model`, row errors, number of data rows). Invalid for an unreadable file."""
    try:
        report = read_rows(data, columns)
    except SpreadsheetError as exc:
        raise Invalid(reason="bad_spreadsheet", detail=str(exc)) from None
    key_of = {spec.label: spec.key for spec in columns}
    errors = [RowProblem(e.row_number, key_of.get(e.column) or None, e.message) for e in report.errors]
    good: list[tuple[int, M]] = []
    for row in report.rows:
        try:
            good.append((row.row_number, model.model_validate(row.values)))
        except ValidationError as exc:
            for e in exc.errors():
                field = str(e["loc"][0]) if e.get("loc") else None
                problem = refusals.validation_problem(catalogue.DEFAULT_LANGUAGE, e)
                errors.append(RowProblem(row.row_number, field, problem))
    total = len(report.rows) + len({e.row_number for e in report.errors})
    return good, errors, total


def check_each(good: Sequence[tuple[int, M]], check: Callable[[M], None]) -> list[RowProblem]:
    """Run a one-by-one rule (which raises a DomainError, e.g. a whitelist clash) on every good row and
    collect its refusals as row problems."""
    problems = []
    for number, row in good:
        try:
            check(row)
        except DomainError as exc:
            problems.append(
                RowProblem(number, None, refusals.domain_message(catalogue.DEFAULT_LANGUAGE, exc))
            )
    return problems


def refuse_import(
    errors: Sequence[RowProblem],
    total_rows: int,
    *,
    actor: User,
    client_ip: str | None,
    kind: str,
    **details: Any,
) -> DomainError:
    """The refusal to raise: the unit of work undoes anything the import touched and keeps its audit
    entry (every import is audited, a refused one too)."""
    refusal = Rejected(
        reason="import_rejected",
        detail={
            "message": "nothing was imported; fix these rows and upload the file again",
            "rows": total_rows,
            "errors": [e.as_dict() for e in sorted(errors, key=lambda e: e.row)],
        },
    )
    return refusal.audited(
        "import.rejected",
        actor=actor,
        client_ip=client_ip,
        kind=kind,
        rows=total_rows,
        errors=len(errors),
        **details,
    )
