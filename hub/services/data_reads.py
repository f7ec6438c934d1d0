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
from hub.core.clock import taipei_words
from hub.db import utcnow
from hub.i18n import catalogue
from hub.models.audit import AuditEvent
from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.services.errors import NotFound

# What each audited read is called for the person it concerned.
READS: dict[str, str] = {
    "query.passes": "通行碼紀錄查詢",
    "query.checks": "員警盤查紀錄查詢",
    "query.visits": "實聯登記紀錄查詢",
    "query.venue_visits": "實聯碼場所的登記紀錄",
    "query.employees": "企業員工名單",
    "query.enterprise_passes": "企業通行碼清單",
    "query.officers": "值勤員警名單",
    "query.station_admins": "警局管理者名單",
    "query.admins": "管理者名單",
    "pass.read": "通行碼",
    "check.line": "員警掃碼核實通行碼",
}
FORMATS = {"csv": "匯出 CSV 檔", "xlsx": "匯出 Excel 檔", "pdf": "列印 PDF"}
HUB_READER = "交通管制中心"  # a reader without an organisation: the hub's own administrators
MAX_SHOWN = 500
UNMASK_REASON = "personal_data.unmask_reason"
# The console writes the typed reason as its own entry just before the register read's entry, in the
# same request (hub.console.pages_data); it belongs to the read if it is that recent.
REASON_WINDOW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class ReadOfMe:
    event_id: int
    at: dt.datetime
    reader: str
    what: str
    unmasked: bool
    reason: str | None

    def shown(self) -> dict[str, Any]:
        """As the pages and the chat show it (zh-TW, Taipei time)."""
        return {
            "event_id": self.event_id,
            "at": taipei_words(self.at),
            "reader": self.reader,
            "what": self.what,
            "unmasked": self.unmasked,
            "masking": "未遮蔽（完整資料）" if self.unmasked else "已遮蔽",
            "reason": self.reason,
        }


def _reader(db: Session, actor: User | None) -> str:
    if actor is None:
        return HUB_READER
    org = db.get(Organisation, actor.org_id) if actor.org_id is not None else None
    # the role's name in zh-TW, from the one message catalogue (role keys are the role values)
    role = catalogue.text("zh-TW", actor.role) if catalogue.has(actor.role) else actor.role
    parts = [org.name if org is not None else HUB_READER, role]
    if actor.name:
        parts.append(mask_name(actor.name))
    return " ".join(parts)


def _what(event: AuditEvent) -> str:
    label = READS.get(event.action, event.action)
    how = FORMATS.get(str(event.details.get("format") or event.details.get("form") or ""))
    return f"{label}（{how}）" if how else label


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
                what=_what(event),
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
