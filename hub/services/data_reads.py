"""Who read my data: for one person, each read of their personal data in the retention window.

The audit entry of every personal-data read names the people it showed (`subjects`: keyed hashes of
their mobiles, written by hub.services.audit.record), so a register page or an export of many people
appears for each of them. What a person is shown of a read: when (Taipei time), the reader's
organisation and role and masked name (never the reader's mobile), what was read, masked or not, and the
reason typed for an unmask. Nothing else of the entry: not its filters, not how many others it showed.
Every front end (LINE, the footprint page, the console) shows this list and nothing more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from crypto.identity import mask_name
from hub.context import context_of
from hub.core.clock import taipei_minute
from hub.db import utcnow
from hub.i18n import catalogue
from hub.models.audit import AuditEvent
from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.services.errors import NotFound

# What each audited read is called for the person it concerned: `read.<action>` in the catalogue, and
# `read.format.<format>` for an export or print (tests/hub/test_i18n_catalogue.py holds both languages).
READS = (
    "query.passes",
    "query.checks",
    "query.visits",
    "query.venue_visits",
    "query.employees",
    "query.enterprise_passes",
    "query.officers",
    "query.station_admins",
    "query.admins",
    "pass.read",
    "check.line",
)
FORMATS = ("csv", "xlsx", "pdf")
MAX_SHOWN = 500
UNMASK_REASON = "personal_data.unmask_reason"
# The console writes the typed reason as its own entry just before the register read's entry, in the
# same request (hub.console.pages_data); it belongs to the read if it is that recent.
REASON_WINDOW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Reader:
    """Who read: the reader's organisation (None: the hub's own administrators), role, masked name."""

    organisation: str | None
    role: str | None
    masked_name: str | None


@dataclass(frozen=True)
class ReadOfMe:
    event_id: int
    at: dt.datetime
    reader: Reader
    action: str
    form: str | None  # csv / xlsx / pdf when the read was an export or a print
    unmasked: bool
    reason: str | None

    def shown(self, language: str = "zh-TW") -> dict[str, Any]:
        """As the pages and the chat show it, in `language`, in Taipei time."""
        return {
            "event_id": self.event_id,
            "at": catalogue.text(language, "liff.at_taipei", at=taipei_minute(self.at)),
            "reader": _reader_words(language, self.reader),
            "what": _what_words(language, self.action, self.form),
            "unmasked": self.unmasked,
            "masking": (
                catalogue.text(language, "read.unmasked")
                if self.unmasked
                else catalogue.text(language, "read.masked")
            ),
            "reason": self.reason,
        }


def _reader(db: Session, actor: User | None) -> Reader:
    if actor is None:
        return Reader(None, None, None)
    org = db.get(Organisation, actor.org_id) if actor.org_id is not None else None
    return Reader(
        org.name if org is not None else None, actor.role, mask_name(actor.name) if actor.name else None
    )


def _reader_words(language: str, reader: Reader) -> str:
    parts = [reader.organisation or catalogue.text(language, "read.hub_reader")]
    if reader.role:  # role keys are the role values
        parts.append(catalogue.text(language, reader.role) if catalogue.has(reader.role) else reader.role)
    if reader.masked_name:
        parts.append(reader.masked_name)
    return " ".join(parts)


def _what_words(language: str, action: str, form: str | None) -> str:
    key = f"read.{action}"
    label = catalogue.text(language, key) if catalogue.has(key) else action
    how_key = f"read.format.{form}"
    if form and catalogue.has(how_key):
        return catalogue.text(language, "read.with_format", what=label, how=catalogue.text(language, how_key))
    return label


def _form(event: AuditEvent) -> str | None:
    form = str(event.details.get("format") or event.details.get("form") or "")
    return form or None


def _unmasked(event: AuditEvent) -> bool:
    details = event.details
    return bool(details.get("unmasked") or details.get("mobiles_in_clear"))


def _reason(db: Session, event: AuditEvent) -> str | None:
    if not event.details.get("unmasked") or event.actor_user_id is None:
        return None
    found = db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == UNMASK_REASON,
            AuditEvent.actor_user_id == event.actor_user_id,
            AuditEvent.id < event.id,
            AuditEvent.at >= event.at - REASON_WINDOW,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    return str(found.details.get("reason")) if found is not None else None


def _concerns(event: AuditEvent, key: str) -> bool:
    subjects = event.details.get("subjects")
    return isinstance(subjects, list) and key in subjects


def _events_of(db: Session, mobile: str, now: dt.datetime | None) -> list[AuditEvent]:
    """The read entries that name `mobile` among their subjects, newest first, in the retention window.
    Reads the person made themselves (any of their accounts) are left out: they know of those."""
    ctx = context_of(db)
    key = ctx.protector.subject_hash(mobile)
    since = (now or utcnow()) - dt.timedelta(days=ctx.settings.retention_days)
    # The text match narrows in the database; the exact check is on the parsed list.
    candidates = db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.at >= since,
            AuditEvent.action.in_(list(READS)),
            cast(AuditEvent.details, String).like(f'%"{key}"%'),
        )
        .order_by(AuditEvent.id.desc())
    )
    own = set(db.scalars(select(User.id).where(User.mobile == mobile)))
    out: list[AuditEvent] = []
    for event in candidates:
        if _concerns(event, key) and event.actor_user_id not in own:
            out.append(event)
            if len(out) == MAX_SHOWN:
                break
    return out


def reads_of(db: Session, mobile: str, *, now: dt.datetime | None = None) -> list[ReadOfMe]:
    """Each read of the personal data of the person with `mobile` (E.164, proven by the caller: a bound
    LINE account, an SMS code, a console login), newest first."""
    out = []
    for event in _events_of(db, mobile, now):
        actor = db.get(User, event.actor_user_id) if event.actor_user_id is not None else None
        out.append(
            ReadOfMe(
                event_id=event.id,
                at=event.at,
                reader=_reader(db, actor),
                action=event.action,
                form=_form(event),
                unmasked=_unmasked(event),
                reason=_reason(db, event),
            )
        )
    return out


def proof_of_read(db: Session, mobile: str, event_id: int) -> dict[str, Any]:
    """The transparency log's inclusion proof of one read shown to this person; NotFound for any entry
    that is not one of their reads (so it says nothing of others' entries)."""
    from hub.services.transparency_log import inclusion_proof

    event = db.get(AuditEvent, event_id)
    key = context_of(db).protector.subject_hash(mobile)
    if event is None or event.action not in READS or not _concerns(event, key):
        raise NotFound(reason="not_found", detail="no such read of your data")
    return inclusion_proof(db, event_id)
