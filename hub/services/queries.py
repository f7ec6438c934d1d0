"""De-identified registers (the city's 總管理者流程三): passes by time / enterprise / person, police checks
by officer, visits by venue. Masked unless the caller may and asks to unmask; every read is audited."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from crypto.identity import (
    is_valid_ubn,
    mask_mobile,
    mask_name,
    national_id_problem,
    normalize_national_id,
)
from hub.core.clock import require_aware
from hub.core.masking import show_mobile, show_name
from hub.core.permissions import Permission
from hub.core.phone import InvalidMobile, normalize_mobile
from hub.models.organisations import Organisation, OrgKind
from hub.models.passes import Pass
from hub.models.rosters import Employee, Officer
from hub.models.venues import Venue, Visit
from hub.services import audit, people
from hub.services.errors import Invalid, NotAllowed
from hub.services.scope import Scope

MAX_ROWS = 10_000


@dataclass(frozen=True)
class Register:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    truncated: bool
    # The filter ("enterprise", "officer") whose term named no enterprise or officer at all: no rows,
    # and the reason is not that nothing happened in the window.
    unmatched: str | None = None
    # The mobiles of the people the rows show (never output): whom the read concerned, for its audit
    # entry (hub.services.audit.record's `subjects`).
    subjects: frozenset[str] = frozenset()

    def cells(self) -> list[list[Any]]:
        """The rows as lists in column order, for the CSV and .xlsx exports."""
        return [[row.get(column) for column in self.columns] for row in self.rows]

    def listing(self) -> dict[str, Any]:
        """The register as JSON-ready data, times as ISO 8601 text (UTC): the REST answer's body, and
        what the console's query page lays out (converting to Taipei time as it shows each cell)."""
        rows = [
            {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()} for r in self.rows
        ]
        return {
            "columns": list(self.columns),
            "rows": rows,
            "count": len(rows),
            "truncated": self.truncated,
            "unmatched": self.unmatched,
        }


def _window(
    query: Select[Any], column: Any, since: dt.datetime | None, until: dt.datetime | None
) -> Select[Any]:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query


def check_window(since: dt.datetime | None, until: dt.datetime | None) -> None:
    """A window that holds no time is a mistake to name, not a query that finds nothing."""
    if since is None or until is None:
        return
    if since > until:
        raise Invalid("'from' is later than 'to'", field="from", reason="reversed_range")
    if since == until:
        raise Invalid("'from' equals 'to': the range holds no time", field="to", reason="empty_range")


def search_term(text: str | None) -> str | None:
    """A term as typed into a search box: NFKC (full-width letters and digits are the ASCII ones), trimmed."""
    if text is None:
        return None
    term = unicodedata.normalize("NFKC", text).strip()
    return term or None


_NATIONAL_ID_SHAPE = re.compile(r"[A-Z][A-Z0-9][0-9]{8}")
_MOBILE_SHAPE = re.compile(r"[+\d][\d\s\-()]{6,}")


def person_filter(db: Session, person: str) -> tuple[str, str]:
    """('national_id_hash'|'mobile'|'name', value) for a search term typed by an admin: a national ID or
    a mobile is matched whole (through its keyed hash, or its stored E.164 form), a name by any part."""
    term = search_term(person) or ""
    if not term or len(term) > 64:
        raise Invalid("give a name, mobile or national ID", field="person", reason="bad_person")
    nid = normalize_national_id(term)
    if _NATIONAL_ID_SHAPE.fullmatch(nid):
        problem = national_id_problem(nid, allow_old_resident=True)
        if problem is not None:
            raise Invalid(
                f"not a valid national ID ({problem.explain()})", field="person", reason="bad_national_id"
            )
        return "national_id_hash", people.national_id_hash(db, nid)
    if _MOBILE_SHAPE.fullmatch(term):
        try:
            return "mobile", normalize_mobile(term)
        except InvalidMobile:
            raise Invalid("not a valid mobile number", field="person", reason="bad_mobile") from None
    if any(c.isdigit() for c in term):
        # A name has no digits; part of a mobile or ID would match people by a fragment of their number.
        raise Invalid(
            "give a whole mobile or national ID, or part of a name", field="person", reason="partial_number"
        )
    return "name", term


def enterprise_filter(db: Session, enterprise: str) -> list[int]:
    """The enterprises a term names: a 統一編號 (8 digits, checked) or any part of the name."""
    term = search_term(enterprise) or ""
    if not term or len(term) > 100:
        raise Invalid("give a 統一編號 or part of a name", field="enterprise", reason="bad_enterprise")
    query = select(Organisation.id).where(Organisation.kind == OrgKind.ENTERPRISE.value)
    if term.isdigit():
        if not is_valid_ubn(term):
            raise Invalid("not a valid 統一編號 (8 digits, checksum)", field="enterprise", reason="bad_ubn")
        return list(db.scalars(query.where(Organisation.ubn == term)))
    return list(db.scalars(query.where(Organisation.name.icontains(term, autoescape=True))))


def officer_filter(db: Session, officer: str, station_id: int | None) -> list[int]:
    """The officers a term names: an officer number (whole, any case) or any part of a name."""
    term = search_term(officer) or ""
    if not term or len(term) > 64:
        raise Invalid("give an officer number or part of a name", field="officer", reason="bad_officer")
    query = select(Officer.id).where(
        or_(
            func.upper(Officer.officer_number) == term.upper(),
            Officer.name.icontains(term, autoescape=True),
        )
    )
    if station_id is not None:
        query = query.where(Officer.station_id == station_id)
    return list(db.scalars(query))


PASS_COLUMNS = (
    "pass_id",
    "issued_at",
    "enterprise_id",
    "enterprise",
    "holder_name",
    "national_id",
    "mobile",
    "kind",
    "not_before",
    "expires_at",
    "revoked_at",
)


def pass_register(
    db: Session,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    enterprise_id: int | None,
    person: str | None,
    unmask: bool,
    enterprise: str | None = None,
    limit: int = MAX_ROWS,  # the console shows a screenful; exports take the whole register
) -> Register:
    check_window(since, until)
    query = select(Pass, Organisation.name).join(Organisation, Organisation.id == Pass.org_id)
    query = _window(query, Pass.issued_at, since, until)
    if enterprise_id is not None:
        query = query.where(Pass.org_id == enterprise_id)
    if person:
        kind, value = person_filter(db, person)
        if kind == "name":
            query = query.where(Pass.holder_name.contains(value, autoescape=True))
        else:
            column = Pass.national_id_hash if kind == "national_id_hash" else Pass.holder_mobile
            query = query.where(column == value)
    if enterprise:
        org_ids = enterprise_filter(db, enterprise)
        if not org_ids:
            return Register(PASS_COLUMNS, [], False, unmatched="enterprise")
        query = query.where(Pass.org_id.in_(org_ids))
    rows = db.execute(query.order_by(Pass.issued_at.desc(), Pass.id.desc()).limit(limit + 1)).all()
    employees: dict[int, Employee] = {}
    if unmask:
        ids = {p.employee_id for p, _ in rows if p.employee_id is not None}
        employees = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(ids)))} if ids else {}
    out = []
    for record, org_name in rows[:limit]:
        national_id = record.masked_national_id
        if unmask and record.employee_id in employees:
            national_id = people.reveal_national_id(db, employees[record.employee_id]) or national_id
        out.append(
            {
                "pass_id": record.pass_id,
                "issued_at": record.issued_at,
                "enterprise_id": record.org_id,
                "enterprise": org_name,
                "holder_name": show_name(record.holder_name, unmask),
                "national_id": national_id,
                "mobile": show_mobile(record.holder_mobile, unmask),
                "kind": record.kind,
                "not_before": record.not_before,
                "expires_at": record.expires_at,
                "revoked_at": record.revoked_at,
            }
        )
    subjects = frozenset(record.holder_mobile for record, _ in rows[:limit])
    return Register(PASS_COLUMNS, out, len(rows) > limit, subjects=subjects)


CHECK_COLUMNS = (
    "event_id",
    "scanned_at",
    "officer_id",
    "officer_name",
    "officer_number",
    "station_id",
    "device_id",
    "ok",
    "reason",
    "pass_id",
    "holder_name",
    "enterprise",
    "stale",
)


def check_register(
    db: Session,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    officer_id: int | None,
    station_id: int | None,
    unmask: bool,
    officer: str | None = None,
    limit: int = MAX_ROWS,
) -> Register:
    """Police checks (scans uploaded by checkpoints), by officer and/or station."""
    from hub.models.devices import Scan

    check_window(since, until)
    query = select(Scan)
    query = _window(query, Scan.scanned_at, since, until)
    if officer_id is not None:
        query = query.where(Scan.officer_id == str(officer_id))
    if officer:
        officer_ids = officer_filter(db, officer, station_id)
        if not officer_ids:
            return Register(CHECK_COLUMNS, [], False, unmatched="officer")
        query = query.where(Scan.officer_id.in_([str(i) for i in officer_ids]))
    if station_id is not None:
        officer_ids = [str(i) for i in db.scalars(select(Officer.id).where(Officer.station_id == station_id))]
        query = query.where(Scan.officer_id.in_(officer_ids))
    scans = list(db.scalars(query.order_by(Scan.scanned_at.desc()).limit(limit + 1)))
    officer_keys = {int(s.officer_id) for s in scans if s.officer_id and s.officer_id.isdigit()}
    officers = (
        {o.id: o for o in db.scalars(select(Officer).where(Officer.id.in_(officer_keys)))}
        if officer_keys
        else {}
    )
    pass_ids = {s.pass_id for s in scans if s.pass_id}
    pass_rows = (
        db.execute(
            select(Pass, Organisation.name)
            .join(Organisation, Organisation.id == Pass.org_id)
            .where(Pass.pass_id.in_(pass_ids))
        ).all()
        if pass_ids
        else []
    )
    by_pass = {p.pass_id: (p, name) for p, name in pass_rows}
    out = []
    for scan in scans[:limit]:
        officer = (
            officers.get(int(scan.officer_id)) if scan.officer_id and scan.officer_id.isdigit() else None
        )
        held = by_pass.get(scan.pass_id or "")
        out.append(
            {
                "event_id": scan.event_id,
                "scanned_at": scan.scanned_at,
                "officer_id": scan.officer_id,
                "officer_name": show_name(officer.name, unmask) if officer else None,
                "officer_number": officer.officer_number if officer else None,
                "station_id": officer.station_id if officer else None,
                "device_id": scan.device_id,
                "ok": scan.ok,
                "reason": scan.reason,
                "pass_id": scan.pass_id,
                "holder_name": show_name(held[0].holder_name, unmask) if held else None,
                "enterprise": held[1] if held else None,
                "stale": scan.stale,
            }
        )
    shown = scans[:limit]
    shown_officers = {s.officer_id for s in shown}
    subjects = {o.mobile for o in officers.values() if str(o.id) in shown_officers}
    subjects |= {by_pass[s.pass_id][0].holder_mobile for s in shown if s.pass_id in by_pass}
    return Register(CHECK_COLUMNS, out, len(scans) > limit, subjects=frozenset(subjects))


VISIT_COLUMNS = ("visited_at", "venue_id", "venue", "organisation", "mobile")


def visit_register(
    db: Session,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    venue_id: int | None,
    org_id: int | None,
    mobile: str | None,
    unmask: bool,
) -> Register:
    query = (
        select(Visit, Venue, Organisation.name)
        .join(Venue, Venue.id == Visit.venue_id)
        .join(Organisation, Organisation.id == Venue.org_id)
    )
    check_window(since, until)
    query = _window(query, Visit.visited_at, since, until)
    if venue_id is not None:
        query = query.where(Visit.venue_id == venue_id)
    if org_id is not None:
        query = query.where(Venue.org_id == org_id)
    if mobile is not None:
        query = query.where(Visit.mobile == mobile)
    rows = db.execute(query.order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(MAX_ROWS + 1)).all()
    out = [
        {
            "visited_at": v.visited_at,
            "venue_id": venue.id,
            "venue": venue.name,
            "organisation": org_name,
            "mobile": show_mobile(v.mobile, unmask),
        }
        for v, venue, org_name in rows[:MAX_ROWS]
    ]
    subjects = frozenset(v.mobile for v, _, _ in rows[:MAX_ROWS])
    return Register(VISIT_COLUMNS, out, len(rows) > MAX_ROWS, subjects=subjects)


def describe_person(person: str | None) -> str | None:
    """A search term as it may appear in the audit log (masked)."""
    if person is None:
        return None
    return (
        mask_name(person)
        if not any(c.isdigit() for c in person)
        else person[:3] + "*" * max(0, len(person) - 3)
    )


# ---- the registers as the front ends ask for them, with the caller's Scope ---------------------


def _allowed(scope: Scope, permission: Permission, unmask: bool) -> None:
    scope.require(permission)
    if unmask:
        scope.require(Permission.PERSONAL_DATA_UNMASK)


def _audited(
    db: Session, scope: Scope, name: str, register: Register, unmask: bool, **filters: Any
) -> Register:
    """Every register read is audited (with its filters, masked, and how many rows it gave)."""
    audit.record(
        db,
        f"query.{name}",
        actor=scope.user,
        client_ip=scope.client_ip,
        subjects=register.subjects,
        **filters,
        unmasked=unmask,
        results=len(register.rows),
    )
    return register


def read_pass_register(
    db: Session,
    scope: Scope,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    enterprise_id: int | None = None,
    enterprise: str | None = None,
    person: str | None = None,
    unmask: bool = False,
    output: str = "json",
    limit: int = MAX_ROWS,
) -> Register:
    """Enterprise pass register by time, enterprise (row id, or a 統一編號 or part of its name) and/or
    person (part of a name, or a whole mobile or national ID). Enterprise admins see their own."""
    _allowed(scope, Permission.QUERY_PASSES, unmask)
    enterprise_id = scope.org_filter(enterprise_id, Permission.QUERY_PASSES)
    register = pass_register(
        db,
        since=require_aware(since, "from"),
        until=require_aware(until, "to"),
        enterprise_id=enterprise_id,
        enterprise=search_term(enterprise),
        person=search_term(person),
        unmask=unmask,
        limit=limit,
    )
    return _audited(
        db,
        scope,
        "passes",
        register,
        unmask,
        enterprise_id=enterprise_id,
        enterprise=search_term(enterprise),
        person=describe_person(search_term(person)),
        since=str(since) if since else None,
        until=str(until) if until else None,
        format=output,
    )


def read_check_register(
    db: Session,
    scope: Scope,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    officer_id: int | None = None,
    officer: str | None = None,
    station_id: int | None = None,
    unmask: bool = False,
    output: str = "json",
    limit: int = MAX_ROWS,
) -> Register:
    """Police check register (scans uploaded by checkpoints) by officer (row id, or an officer number or
    part of a name). Station admins see their station."""
    _allowed(scope, Permission.QUERY_CHECKS, unmask)
    station_id = scope.org_filter(station_id, Permission.QUERY_CHECKS)
    if not scope.hub_wide and officer_id is not None:
        officer = db.get(Officer, officer_id)
        if officer is None or officer.station_id != station_id:
            raise NotAllowed("outside your organisation")
    register = check_register(
        db,
        since=require_aware(since, "from"),
        until=require_aware(until, "to"),
        officer_id=officer_id,
        officer=search_term(officer),
        station_id=station_id,
        unmask=unmask,
        limit=limit,
    )
    return _audited(
        db,
        scope,
        "checks",
        register,
        unmask,
        officer_id=officer_id,
        officer=describe_person(search_term(officer)),
        station_id=station_id,
        format=output,
    )


def read_visit_register(
    db: Session,
    scope: Scope,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    venue_id: int | None = None,
    org_id: int | None = None,
    mobile: str | None = None,
    unmask: bool = False,
    output: str = "json",
) -> Register:
    """Visits by venue (and/or organisation, person). Organisation admins see their own venues only."""
    _allowed(scope, Permission.QUERY_VISITS, unmask)
    org_id = scope.org_filter(org_id, Permission.QUERY_VISITS)
    register = visit_register(
        db,
        since=require_aware(since, "from"),
        until=require_aware(until, "to"),
        venue_id=venue_id,
        org_id=org_id,
        mobile=mobile,
        unmask=unmask,
    )
    return _audited(
        db,
        scope,
        "visits",
        register,
        unmask,
        venue_id=venue_id,
        org_id=org_id,
        mobile=mask_mobile(mobile) if mobile else None,
        format=output,
    )
