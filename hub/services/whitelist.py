"""People an organisation vouches for: an enterprise's employees (who get passes) and a station's duty
officers (who log in to checkpoints) are one concept, a whitelist kept by the organisation's admins.

`Whitelist` holds every rule they share — who keeps it (the kind's `keeper`), an entry's identifying
fields are unique within its organisation, a double submit is the entry just added, an import is every
row or none, every read and change audited — once; a kind (`hub.services.employees.EMPLOYEES`,
`hub.services.rosters.OFFICERS`) says only what differs: its table, its fields, how a field is stored and
what follows a change (the person's login account, their passes).

An entry's shape is its kind's models, one set per entity: `new` (create; each field annotated with its
import sheet column, so `columns` derives from it), `patch` (the typed update, derived from `new`: every
field optional) and `public` (what is shown, masked by the caller's scope). REST, the console, LIFF and
the import sheets take them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Optional, TypeVar

from pydantic import BaseModel, create_model, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.documents.spreadsheets import ColumnSpec
from hub.models.audit import AuditEvent
from hub.models.organisations import Organisation
from hub.services import audit
from hub.services.errors import Conflict, NotFound
from hub.services.imports import check_each, read_import, refuse_import
from hub.services.scope import Scope
from hub.services.unit_of_work import REPEAT_WINDOW, serialise

Entry = TypeVar("Entry", bound=Any)  # the table's row: hub.models.rosters.Employee, Officer
New = TypeVar("New", bound=BaseModel)
Patch = TypeVar("Patch", bound=BaseModel)

# A duplicate's `what` -> the catalogue field its message names (refusal.duplicate.<field>).
_FIELD_OF = {"national ID": "national_id", "number": "officer_number"}


class EntryIn(BaseModel):
    """The base of a whitelist's create model: an optional field left blank (a form's empty input, a
    sheet's empty cell) is not given, rather than refused as too short."""

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        optional = {name for name, info in cls.model_fields.items() if not info.is_required()}
        return {k: v for k, v in data.items() if not (k in optional and isinstance(v, str) and not v.strip())}


def columns_of(model: type[BaseModel]) -> tuple[ColumnSpec, ...]:
    """The import sheet's columns: each field of `model` names its own (`Annotated[..., NAME]`)."""
    columns = []
    for name, info in model.model_fields.items():
        spec = next((m for m in info.metadata if isinstance(m, ColumnSpec)), None)
        if spec is None:
            raise TypeError(f"{model.__name__}.{name} names no import column")
        columns.append(spec)
    return tuple(columns)


def patch_of(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The typed update of `model`: the same fields with the same limits, each optional (left out: kept)."""
    fields: dict[str, Any] = {
        field: (Optional[info.rebuild_annotation()], None)  # noqa: UP045 - a runtime type, not a hint
        for field, info in model.model_fields.items()
    }
    return create_model(name, __module__=model.__module__, **fields)


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


class Whitelist(Generic[Entry, New]):
    """One kind of whitelist. A subclass names its table and models and overrides the hooks whose
    default does not fit; the commands below are the same for every kind."""

    entry: type[Entry]
    new: type[New]
    patch: type[BaseModel]
    public: type[BaseModel]
    org_key: ClassVar[str]  # the organisation's column on `entry` and its name in audit details
    thing: ClassVar[str]  # "employee": NotFound's thing, the audit actions' and targets' prefix
    plural: ClassVar[str]  # "employees": the list and import audit actions, an import's kind
    who: ClassVar[str]  # "an employee": a duplicate's detail
    lock: ClassVar[str]  # the serialise key's prefix: one command at a time per organisation
    sheet_name: ClassVar[str]  # the import template's file name, without .xlsx
    unique: ClassVar[tuple[tuple[str, str], ...]]  # (field, what): unique within the organisation

    def __init__(self) -> None:
        # made at start: a create field that names no import column stops the hub starting, not an import
        self.columns: tuple[ColumnSpec, ...] = columns_of(self.new)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.new.model_fields)

    @property
    def required(self) -> tuple[str, ...]:
        """The fields a new entry must have (a form marks them required)."""
        return tuple(name for name, info in self.new.model_fields.items() if info.is_required())

    # --- what a kind says -------------------------------------------------------------------------------

    def keeper(self, db: Session, scope: Scope, org_id: int) -> Organisation:
        """The organisation, if `scope` keeps its whitelist; refused otherwise."""
        raise NotImplementedError

    def stored(self, db: Session, entry: Entry, field: str, value: Any) -> None:
        """Put a field's value on the row (a kind stores a national ID protected)."""
        setattr(entry, field, value)

    def column(self, field: str) -> Any:
        """The column a field is compared by."""
        return getattr(self.entry, field)

    def compared(self, db: Session, field: str, value: Any) -> Any:
        """A typed value as its column holds it (a national ID: its hash)."""
        return value

    def current(self, entry: Entry, field: str) -> Any:
        """What the entry's column holds for `field`."""
        return getattr(entry, field)

    def follow(self, db: Session, entry: Entry, changes: dict[str, Any], old: dict[str, Any]) -> None:
        """What follows a change of the entry (the person's login account); `old`: the fields before."""

    def before_delete(self, db: Session, scope: Scope, entry: Entry) -> dict[str, Any]:
        """What goes with an entry taken off; the audit entry's details."""
        return {}

    def list_details(self, scope: Scope, org_id: int, masked: bool) -> dict[str, Any]:
        """The list read's audit details beyond who and how many."""
        return {}

    def sees_in_clear(self, scope: Scope, org_id: int) -> bool:
        """Whether `scope` is shown the entries' personal data unmasked (default: nobody is)."""
        return False

    def show(self, entry: Entry, scope: Scope | None = None) -> BaseModel:
        """The entry's public shape, masked unless `scope` sees it in clear (no scope: masked)."""
        clear = scope is not None and self.sees_in_clear(scope, getattr(entry, self.org_key))
        return self.public.of(entry, clear=clear)  # type: ignore[attr-defined]

    def shown(self, entry: Entry) -> dict[str, str]:
        """The entry's fields as a page shows them to anyone: the personal ones masked (`public`'s
        `<field>_masked`), the others as stored."""
        values = self.show(entry).model_dump()
        return {f: values.get(f"{f}_masked", values.get(f)) or "" for f in self.fields}

    # --- the commands -----------------------------------------------------------------------------------

    def _org_of(self) -> Any:
        return getattr(self.entry, self.org_key)

    def get(self, db: Session, scope: Scope, *, org_id: int, entry_id: int) -> Entry:
        """An entry of the organisation's whitelist, if `scope` keeps it; NotFound for another's."""
        self.keeper(db, scope, org_id)
        entry = db.get(self.entry, entry_id)
        if entry is None or getattr(entry, self.org_key) != org_id:
            raise NotFound(self.thing)
        return entry

    def entries(self, db: Session, scope: Scope, *, org_id: int, masked: bool = False) -> list[Entry]:
        """The whitelist, audited (`masked`: the front end shows mobiles masked to everyone)."""
        self.keeper(db, scope, org_id)
        query = select(self.entry).where(self._org_of() == org_id).order_by(self.entry.id)
        rows = list(db.scalars(query))
        audit.record(
            db,
            f"query.{self.plural}",
            actor=scope.user,
            target=f"org:{org_id}",
            client_ip=scope.client_ip,
            subjects=[e.mobile for e in rows],
            results=len(rows),
            **self.list_details(scope, org_id, masked),
        )
        return rows

    def _check_free(
        self,
        db: Session,
        org_id: int,
        values: dict[str, Any],
        *,
        exclude: int | None = None,
        typed: set[str] | None = None,
    ) -> None:
        """409 if another entry of the organisation has one of the unique fields' `values`; `typed`:
        which of them were typed (the others are what the edited entry holds already)."""
        fresh = set(values) if typed is None else typed
        fields = [
            (self.column(f), self.compared(db, f, values[f]) if f in fresh else values[f], what)
            for f, what in self.unique
        ]
        refuse_repeats(db, self.entry, self._org_of() == org_id, fields, who=self.who, exclude=exclude)

    def _just_added(self, db: Session, org_id: int, data: New) -> Entry | None:
        """An identical entry added within REPEAT_WINDOW: what a repeated request added."""
        same = [self.column(f) == self.compared(db, f, getattr(data, f)) for f in self.fields]
        return db.scalars(
            select(self.entry).where(
                self._org_of() == org_id, *same, self.entry.created_at >= utcnow() - REPEAT_WINDOW
            )
        ).first()

    def _build(self, db: Session, org_id: int, data: New) -> Entry:
        entry = self.entry(**{self.org_key: org_id})
        for field in self.fields:
            self.stored(db, entry, field, getattr(data, field))
        return entry

    def add(self, db: Session, scope: Scope, *, org_id: int, data: New) -> Entry:
        """Put someone on the whitelist. The same entry again within REPEAT_WINDOW (a double submit) is
        the one just added, not a duplicate."""
        org = self.keeper(db, scope, org_id)
        serialise(db, f"{self.lock}:{org.id}")
        repeat = self._just_added(db, org.id, data)
        if repeat is not None:
            return repeat
        self._check_free(db, org.id, data.model_dump())
        entry = self._build(db, org.id, data)
        db.add(entry)
        db.flush()
        audit.record(
            db,
            f"{self.thing}.added",
            actor=scope.user,
            target=f"{self.thing}:{entry.id}",
            client_ip=scope.client_ip,
            **{self.org_key: org.id},
        )
        return entry

    def update(self, db: Session, scope: Scope, *, org_id: int, entry_id: int, changes: BaseModel) -> Entry:
        """Correct an entry: the fields `changes` sets; the others stay."""
        entry = self.get(db, scope, org_id=org_id, entry_id=entry_id)
        typed = changes.model_dump(exclude_none=True)
        values = {f: typed[f] if f in typed else self.current(entry, f) for f, _what in self.unique}
        self._check_free(db, org_id, values, exclude=entry.id, typed=set(typed))
        old = {field: getattr(entry, field, None) for field in self.fields}
        for field, value in typed.items():
            self.stored(db, entry, field, value)
        self.follow(db, entry, typed, old)
        audit.record(
            db,
            f"{self.thing}.updated",
            actor=scope.user,
            target=f"{self.thing}:{entry.id}",
            client_ip=scope.client_ip,
            fields=sorted(typed),
        )
        return entry

    def delete(self, db: Session, scope: Scope, *, org_id: int, entry_id: int) -> None:
        """Take someone off the whitelist; the kind says what goes with them."""
        serialise(db, f"{self.lock}:{org_id}")  # a second delete at once finds it gone, not half there
        entry = self.get(db, scope, org_id=org_id, entry_id=entry_id)
        details = self.before_delete(db, scope, entry)
        db.delete(entry)
        audit.record(
            db,
            f"{self.thing}.deleted",
            actor=scope.user,
            target=f"{self.thing}:{entry.id}",
            client_ip=scope.client_ip,
            **details,
        )

    def deleted_just_now(self, db: Session, scope: Scope, *, entry_id: int) -> bool:
        """Whether `scope`'s user took this entry off within REPEAT_WINDOW (the audit trail says what was
        done): a repeated delete (a double tap) is answered as the first one was."""
        found = db.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == f"{self.thing}.deleted",
                AuditEvent.target == f"{self.thing}:{entry_id}",
                AuditEvent.actor_user_id == scope.user.id,
                AuditEvent.at >= utcnow() - REPEAT_WINDOW,
            )
        )
        return found is not None

    def import_rows(self, db: Session, scope: Scope, *, org_id: int, data: bytes) -> list[Entry]:
        """A whitelist sheet (.xlsx, .ods, .csv): every row or none (422 with a per-row report)."""
        org = self.keeper(db, scope, org_id)
        serialise(db, f"{self.lock}:{org.id}")
        # Repeats within the file are found by the reader; clashes with the whitelist here.
        good, errors, total = read_import(data, self.columns, self.new)
        # the same file again at once (a double submit): the rows the first import added
        again = [self._just_added(db, org.id, row) for _n, row in good]
        if good and not errors and all(e is not None for e in again):
            return [e for e in again if e is not None]
        errors += check_each(good, lambda row: self._check_free(db, org.id, row.model_dump()))
        if errors:
            raise refuse_import(
                errors,
                total,
                actor=scope.user,
                client_ip=scope.client_ip,
                kind=self.plural,
                **{self.org_key: org.id},
            )
        created = [self._build(db, org.id, row) for _n, row in good]
        db.add_all(created)
        db.flush()
        audit.record(
            db,
            f"import.{self.plural}",
            actor=scope.user,
            client_ip=scope.client_ip,
            rows=len(created),
            **{self.org_key: org.id},
        )
        return created
