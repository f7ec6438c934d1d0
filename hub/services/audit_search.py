"""Reading the audit log through filters: the console's viewer, its CSV export and `GET /api/v1/audit`.

One rule set for every front end (docs/audit-viewer.md): who may read (`audit.read`), what each filter
means, how input is checked (a bad value is `Invalid` naming its field, never a crash), how pages are
cut. Entries hold no personal data in clear (hub.services.audit.record), so what is found is what is shown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from hub.core.clock import TAIPEI  # times typed into a filter are Taipei time, as every time shown
from hub.core.permissions import Permission
from hub.models.audit import AuditEvent
from hub.services import audit
from hub.services.errors import Invalid
from hub.services.scope import Scope

PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
EXPORT_MAX_ROWS = 100_000

TargetKind = Literal["org", "station", "device"]
Outcome = Literal["allowed", "refused"]
TARGET_KINDS: tuple[str, ...] = ("org", "station", "device")
OUTCOMES: tuple[str, ...] = ("allowed", "refused")
# The audit log records a refusal under an action whose last word says so (`login.failed`,
# `import.rejected`); every other entry is an action that was carried out. Services adding a refusal
# entry follow the same naming, and this filter finds it.
REFUSAL_SUFFIXES = (".failed", ".rejected", ".refused")

_ACTION = re.compile(r"[a-z0-9_.]{1,48}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")
MAX_TEXT = 100


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; None means "any". `since` is inclusive and `until` exclusive, both aware."""

    action: str | None = None
    actor_user_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    target_kind: TargetKind | None = None
    target_id: str | None = None
    outcome: Outcome | None = None
    text: str | None = None

    def summary(self) -> dict[str, Any]:
        """The filter for an audit entry about a read: the free text only as "given", since a person
        may have typed a name into it."""
        out = {k: v for k, v in asdict(self).items() if v is not None and k != "text"}
        for key in ("since", "until"):
            if key in out:
                out[key] = out[key].isoformat()
        if self.text is not None:
            out["text"] = True
        return out


def _taipei_moment(field: str, raw: str, *, end: bool) -> dt.datetime:
    """A time typed by a person: "2026-12-02", "2026-12-02T09:30" or "... 09:30:15" in Taipei time, or
    ISO 8601 with its own offset. For the end of a range the whole day, minute or second given is
    included: the bound returned is just past it."""
    text = raw.strip()
    try:
        if _DATE.fullmatch(text):
            day = dt.date.fromisoformat(text)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=TAIPEI)
            return start + dt.timedelta(days=1) if end else start
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or len(text) > 40:
        raise Invalid(
            f"{field}: not a date and time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM (Taipei time)",
            field=field,
            reason="invalid_filter",
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=TAIPEI)
    if end and value.microsecond == 0:
        if _MINUTE.fullmatch(text):
            value += dt.timedelta(minutes=1)
        elif _SECOND.fullmatch(text):
            value += dt.timedelta(seconds=1)
    return value


def parse_filter(
    *,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    outcome: str | None = None,
    text: str | None = None,
) -> AuditFilter:
    """The filter from text as a form or a URL gives it (blank means "any"). Invalid(field=...) with a
    message saying what is expected when a value cannot be used."""

    def blank(value: str | None) -> str | None:
        value = (value or "").strip()
        return value or None

    action_v, actor_v, kind_v, id_v = blank(action), blank(actor), blank(target_kind), blank(target_id)
    outcome_v, text_v, since_v, until_v = blank(outcome), blank(text), blank(since), blank(until)

    if action_v is not None and not _ACTION.fullmatch(action_v):
        raise Invalid(
            "action: an action name such as login.failed (a-z, 0-9, _ and .)",
            field="action",
            reason="invalid_filter",
        )
    actor_id = None
    if actor_v is not None:
        if not actor_v.isdigit() or len(actor_v) > 12:
            raise Invalid("actor: a user id (digits)", field="actor", reason="invalid_filter")
        actor_id = int(actor_v)
    since_at = _taipei_moment("since", since_v, end=False) if since_v else None
    until_at = _taipei_moment("until", until_v, end=True) if until_v else None
    if since_at is not None and until_at is not None and until_at <= since_at:
        raise Invalid("until: must be after since", field="until", reason="invalid_filter")

    kind: TargetKind | None = None
    if kind_v is not None:
        if kind_v not in TARGET_KINDS:
            raise Invalid(
                "target_kind: one of org, station, device", field="target_kind", reason="invalid_filter"
            )
        kind = kind_v  # type: ignore[assignment]
    if id_v is not None:
        if kind is None:
            raise Invalid(
                "target_kind: say what the target id is (org, station or device)",
                field="target_kind",
                reason="invalid_filter",
            )
        if kind == "device":
            try:
                id_v = str(uuid.UUID(id_v))
            except ValueError:
                raise Invalid(
                    "target_id: a device id (UUID)", field="target_id", reason="invalid_filter"
                ) from None
        elif not id_v.isdigit() or len(id_v) > 12:
            raise Invalid(
                "target_id: an organisation id (digits)", field="target_id", reason="invalid_filter"
            )
    if outcome_v is not None and outcome_v not in OUTCOMES:
        raise Invalid("outcome: allowed or refused", field="outcome", reason="invalid_filter")
    if text_v is not None and (len(text_v) > MAX_TEXT or not text_v.isprintable()):
        raise Invalid(f"text: at most {MAX_TEXT} printable characters", field="text", reason="invalid_filter")
    return AuditFilter(
        action=action_v,
        actor_user_id=actor_id,
        since=since_at,
        until=until_at,
        target_kind=kind,
        target_id=id_v,
        outcome=outcome_v,  # type: ignore[arg-type]
        text=text_v,
    )


def _targets(kind: str, target_id: str | None) -> Any:
    column = AuditEvent.target
    if target_id is not None:
        if kind == "station":
            # A station is an organisation: some entries name it `org:N`, enrolment tokens `station:N`.
            return column.in_([f"station:{target_id}", f"org:{target_id}"])
        return column == f"{kind}:{target_id}"
    if kind == "station":
        return or_(column.like("station:%"), column.like("org:%"))
    return column.like(f"{kind}:%")


def _text_match(text: str) -> Any:
    """Free text, case-insensitive, over the non-personal columns a person reads on screen: action,
    target, actor role and the details (ids, counts and masked values only). Not the client address.

    Details are stored as JSON text with non-ASCII escaped (`\\u9673`), so the text is also looked for in
    that escaped form."""
    needle = text.lower()
    escaped = json.dumps(needle)[1:-1]
    details = func.lower(cast(AuditEvent.details, String))
    columns = [
        func.lower(AuditEvent.action),
        func.lower(func.coalesce(AuditEvent.target, "")),
        func.lower(func.coalesce(AuditEvent.actor_role, "")),
    ]
    tests = [c.contains(needle, autoescape=True) for c in columns]
    tests.append(details.contains(needle, autoescape=True))
    if escaped != needle:
        tests.append(details.contains(escaped, autoescape=True))
    return or_(*tests)


def _refused() -> Any:
    return or_(*(AuditEvent.action.endswith(s, autoescape=True) for s in REFUSAL_SUFFIXES))


def _where(query: Select[Any], flt: AuditFilter) -> Select[Any]:
    if flt.action is not None:
        query = query.where(AuditEvent.action == flt.action)
    if flt.actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == flt.actor_user_id)
    if flt.since is not None:
        query = query.where(AuditEvent.at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditEvent.at < flt.until)
    if flt.target_kind is not None:
        query = query.where(_targets(flt.target_kind, flt.target_id))
    if flt.outcome == "refused":
        query = query.where(_refused())
    elif flt.outcome == "allowed":
        query = query.where(~_refused())
    if flt.text is not None:
        query = query.where(_text_match(flt.text))
    return query


def outcome_of(action: str) -> Outcome:
    return "refused" if action.endswith(REFUSAL_SUFFIXES) else "allowed"


@dataclass(frozen=True)
class AuditPage:
    """One page of matching entries, newest first, with the keys of the neighbouring pages."""

    events: list[AuditEvent]
    total: int  # every entry matching the filter
    newer_after: int | None  # pass as `after_id` for the page before this one (None: this is the newest)
    older_before: int | None  # pass as `before_id` for the next page (None: nothing older)


def search(
    db: Session,
    scope: Scope,
    flt: AuditFilter,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """Matching entries, newest first, `limit` at a time (audit.read). Pages are cut by entry id (keyset),
    so entries written meanwhile do not shift them: `before_id` gives older entries, `after_id` newer."""
    scope.require(Permission.AUDIT_READ)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"limit: from 1 to {MAX_PAGE_SIZE}", field="limit", reason="invalid_filter")
    base = _where(select(AuditEvent), flt)
    if after_id is not None:
        rows = list(db.scalars(base.where(AuditEvent.id > after_id).order_by(AuditEvent.id).limit(limit + 1)))
        more_newer = len(rows) > limit
        events = list(reversed(rows[:limit]))
        more_older = bool(events) and _exists(db, base.where(AuditEvent.id < events[-1].id))
    else:
        query = base.order_by(AuditEvent.id.desc()).limit(limit + 1)
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        rows = list(db.scalars(query))
        more_older = len(rows) > limit
        events = rows[:limit]
        more_newer = (
            before_id is not None and bool(events) and _exists(db, base.where(AuditEvent.id > events[0].id))
        )
    total = db.scalar(_where(select(func.count()).select_from(AuditEvent), flt)) or 0
    return AuditPage(
        events=events,
        total=total,
        newer_after=events[0].id if events and more_newer else None,
        older_before=events[-1].id if events and more_older else None,
    )


def _exists(db: Session, query: Select[Any]) -> bool:
    return db.scalar(select(query.limit(1).exists())) is True


def export(
    db: Session, scope: Scope, flt: AuditFilter, *, max_rows: int = EXPORT_MAX_ROWS
) -> list[AuditEvent]:
    """Every matching entry, newest first, up to `max_rows` (audit.read). Taking the log away in bulk is
    itself audited (`audit.exported`, with the filter; the free text only as "given")."""
    scope.require(Permission.AUDIT_READ)
    query = _where(select(AuditEvent), flt).order_by(AuditEvent.id.desc()).limit(max_rows)
    rows = list(db.scalars(query))  # read before the export's own entry is written
    audit.record(
        db, "audit.exported", actor=scope.user, client_ip=scope.client_ip, rows=len(rows), **flt.summary()
    )
    return rows
