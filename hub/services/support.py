"""詢問客服 (LINE support): messages a LINE chat hands over to a human, stored for the console.

The console calls `list_support_messages(db, actor, ...)` and `mark_handled(...)`; only hub admins
(super admin, general admin) may read them. The mobile of a bound sender is masked, like every other
page's; a reader holding the unmask permission may ask for it in clear (`unmask=True`), and that read is
audited, with the reason the console made them give (the queries' pattern, hub.console.pages_data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.masking import show_mobile
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.i18n import catalogue
from hub.models.identity import User
from hub.models.line import ChannelName, LineSupportMessage
from hub.services import audit
from hub.services.errors import NotAllowed, NotFound
from hub.services.scope import has_permission, is_hub_admin

MAX_TEXT = 2000
MAX_LISTED = 500  # messages on one page, at most


@dataclass(frozen=True)
class SupportMessage:
    id: int
    channel: str
    sender: str  # the bound person's mobile (masked unless unmask is allowed), or `line.support.unbound`
    text: str
    created_at: dt.datetime  # UTC; the console shows Asia/Taipei
    handled_at: dt.datetime | None


def store(db: Session, channel: ChannelName, line_user_id: str, mobile: str | None, text: str) -> None:
    db.add(
        LineSupportMessage(
            channel=channel.value, line_user_id=line_user_id, mobile=mobile, text=text.strip()[:MAX_TEXT]
        )
    )


def _require_admin(actor: User) -> None:
    if not is_hub_admin(actor):
        raise NotAllowed("only hub administrators read support messages")


def list_support_messages(
    db: Session,
    actor: User,
    *,
    channel: ChannelName | None = None,
    unhandled_only: bool = True,
    limit: int = 100,
    unmask: bool = False,
    client_ip: str | None = None,
) -> list[SupportMessage]:
    """The newest support messages first, senders' mobiles masked unless `unmask` is asked for (and
    allowed: NotAllowed otherwise)."""
    _require_admin(actor)
    if unmask and not has_permission(actor, Permission.PERSONAL_DATA_UNMASK):
        raise NotAllowed("showing personal data in clear needs personal_data.unmask")
    query = select(LineSupportMessage).order_by(
        LineSupportMessage.created_at.desc(), LineSupportMessage.id.desc()
    )
    if channel is not None:
        query = query.where(LineSupportMessage.channel == channel.value)
    if unhandled_only:
        query = query.where(LineSupportMessage.handled_at.is_(None))
    rows = db.scalars(query.limit(max(1, min(limit, MAX_LISTED)))).all()
    if unmask:
        audit.record(
            db, "line.support.read", actor=actor, client_ip=client_ip, count=len(rows), unmasked=True
        )
        db.commit()
    return [
        SupportMessage(
            id=r.id,
            channel=r.channel,
            sender=show_mobile(r.mobile, unmask)
            if r.mobile
            else catalogue.text(catalogue.DEFAULT_LANGUAGE, "line.support.unbound"),
            text=r.text,
            created_at=r.created_at,
            handled_at=r.handled_at,
        )
        for r in rows
    ]


def mark_handled(db: Session, actor: User, message_id: int) -> None:
    _require_admin(actor)
    row = db.get(LineSupportMessage, message_id)
    if row is None:
        raise NotFound("support message")
    if row.handled_at is None:
        row.handled_at = utcnow()
        audit.record(db, "line.support.handled", actor=actor, target=str(message_id))
    db.commit()
