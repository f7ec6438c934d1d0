"""Binding a LINE user to a person: after an SMS code to a mobile the hub knows for one of the channel's
roles. The roles themselves come from the services every time (`accounts_of`), so a person who loses
the role (taken off a whitelist or roster, account deactivated) loses the binding at their next event.

Which roles each official account serves is here too (`CHANNEL_ROLES`), and the step a binding chat is
at (`binding_step`: the mobile and name typed so far, table `line_conversations`). Nothing here decides
who may do what; the other services do. Logs name LINE users by a short hash only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import Session

from hub.core.masking import mask_mobile
from hub.core.vocabulary import ChannelName, Role
from hub.db import utcnow
from hub.models.identity import User
from hub.models.line import LineBinding, LineConversation
from hub.models.rosters import Employee
from hub.services import audit, identity, rosters

log = logging.getLogger(__name__)

CHANNEL_ROLES: dict[ChannelName, tuple[Role, ...]] = {
    ChannelName.ENTERPRISE: (Role.ENTERPRISE_ADMIN, Role.EMPLOYEE),
    ChannelName.POLICE: (Role.STATION_ADMIN, Role.OFFICER),
}

# The SMS-code purpose for binding: a code sent for LINE never logs anyone in elsewhere, and back.
BINDING_PURPOSE = "line_binding"


def user_tag(line_user_id: str) -> str:
    """How logs and the audit trail name a LINE user: not the ID itself (it is a personal identifier)."""
    return "line:" + hashlib.sha256(line_user_id.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Caller:
    """A bound LINE user and the accounts its person holds now in this channel's roles."""

    channel: ChannelName
    line_user_id: str
    mobile: str
    accounts: tuple[User, ...]

    def account(self, role: Role) -> User | None:
        return next((a for a in self.accounts if a.role == role.value), None)

    @property
    def primary(self) -> User:
        """The account whose rich menu the user sees: the admin role before the member role."""
        order = {role.value: i for i, role in enumerate(CHANNEL_ROLES[self.channel])}
        return min(self.accounts, key=lambda a: (order[a.role], a.org_id or 0))


def accounts_of(db: Session, channel: ChannelName, mobile: str, name: str | None = None) -> list[User]:
    """The active accounts `mobile` holds in the channel's roles. Employee and officer accounts are
    made from the whitelist/roster on first use, as the REST logins do (hub.services.identity).

    In the police channel a person is known by name *and* mobile, as at the checkpoint app's officer
    login (hub.services.officer_login): only the accounts under that name count (a roster entry's name,
    a station admin's listed name, compared by `rosters.normalize_name`), and without a name none."""
    roles = {r.value for r in CHANNEL_ROLES[channel]}
    found = [a for a in identity.sms_login_accounts(db, mobile) if a.role in roles and a.active]
    if channel is ChannelName.POLICE:
        if name is None:
            return []
        wanted = rosters.normalize_name(name)
        found = [a for a in found if rosters.normalize_name(a.name) == wanted]
        found.extend(rosters.duty_officer_accounts(db, mobile, name))
    return found


def station_admin_accounts(db: Session, mobile: str) -> list[User]:
    """The mobile's active station-admin accounts, whatever their name: for the station registration form,
    which proves the mobile with its own code and binds under the listed admin's name."""
    return [
        a for a in identity.sms_login_accounts(db, mobile) if a.role == Role.STATION_ADMIN.value and a.active
    ]


def is_known(db: Session, channel: ChannelName, mobile: str, name: str | None = None) -> bool:
    """Whether `mobile` (with `name`, in the police channel) may bind in `channel`: asked before sending a
    code, creates nothing. The same matches as `accounts_of` makes after the code."""
    if channel is ChannelName.ENTERPRISE:
        roles = [r.value for r in CHANNEL_ROLES[channel]]
        query = select(User.id).where(User.mobile == mobile, User.active.is_(True), User.role.in_(roles))
        if db.scalars(query).first() is not None:
            return True
        return db.scalars(select(Employee.id).where(Employee.mobile == mobile)).first() is not None
    if name is None:
        return False
    wanted = rosters.normalize_name(name)
    admins = db.scalars(
        select(User.name).where(
            User.mobile == mobile, User.active.is_(True), User.role == Role.STATION_ADMIN.value
        )
    )
    if any(rosters.normalize_name(listed) == wanted for listed in admins):
        return True
    return rosters.find_duty_officer(db, mobile, name) is not None


# Built once: every LINE event asks for its user's binding, and building the statement and its cache
# key on each call cost more than running it (py-spy under bench/line.py, 2026-12-07).
_BINDING = select(LineBinding).where(
    LineBinding.channel == bindparam("p_channel"), LineBinding.line_user_id == bindparam("p_user")
)
_CHAT = LineConversation.__table__
_THIS_CHAT = and_(_CHAT.c.channel == bindparam("p_channel"), _CHAT.c.line_user_id == bindparam("p_user"))
_IN_A_CHAT = select(_CHAT.c.line_user_id).where(_THIS_CHAT)
_END_CHAT = delete(_CHAT).where(_THIS_CHAT)


def binding_of(db: Session, channel: ChannelName, line_user_id: str) -> LineBinding | None:
    return db.scalars(_BINDING, {"p_channel": channel.value, "p_user": line_user_id}).first()


def caller_of(db: Session, channel: ChannelName, line_user_id: str) -> tuple[Caller | None, bool]:
    """The bound caller (None if unbound) and whether a binding was just removed for a lost role."""
    binding = binding_of(db, channel, line_user_id)
    if binding is None:
        return None, False
    accounts = accounts_of(db, channel, binding.mobile, binding.name)
    if not accounts:
        unbind(db, binding, why="role_lost")
        return None, True
    return Caller(channel, line_user_id, binding.mobile, tuple(accounts)), False


def bind(
    db: Session,
    channel: ChannelName,
    line_user_id: str,
    mobile: str,
    accounts: list[User],
    *,
    name: str | None = None,
) -> Caller:
    """Bind after a verified code. A person has one LINE user per channel: an older binding of the same
    mobile (another phone) is replaced. `name` is the name the police channel knows the person by (the
    accounts are looked up again under it at every event, `accounts_of`)."""
    db.execute(
        delete(LineBinding).where(
            LineBinding.channel == channel.value,
            (LineBinding.line_user_id == line_user_id) | (LineBinding.mobile == mobile),
        )
    )
    db.add(LineBinding(channel=channel.value, line_user_id=line_user_id, mobile=mobile, name=name))
    now = utcnow()
    for account in accounts:
        if account.registered_at is None:
            account.registered_at = now  # the city's 註冊成功: the first confirmed SMS code
    caller = Caller(channel, line_user_id, mobile, tuple(accounts))
    audit.record(
        db,
        "line.bound",
        actor=caller.primary,
        target=mask_mobile(mobile),
        channel=channel.value,
        line_user=user_tag(line_user_id),
        roles=sorted({a.role for a in accounts}),
    )
    log.info("LINE user %s bound in %s", user_tag(line_user_id), channel.value)
    return caller


def unbind(db: Session, binding: LineBinding, *, why: str) -> None:
    audit.record(
        db,
        "line.unbound",
        target=mask_mobile(binding.mobile),
        channel=binding.channel,
        line_user=user_tag(binding.line_user_id),
        why=why,
    )
    db.delete(binding)
    db.flush()
    log.info("LINE user %s unbound in %s (%s)", user_tag(binding.line_user_id), binding.channel, why)


def binding_step(db: Session, channel: ChannelName, line_user_id: str) -> LineConversation | None:
    """Where the LINE user's binding chat is (the mobile and name typed so far), if it is anywhere."""
    return db.scalars(
        select(LineConversation).where(
            LineConversation.channel == channel.value, LineConversation.line_user_id == line_user_id
        )
    ).first()


def set_binding_step(
    db: Session,
    channel: ChannelName,
    line_user_id: str,
    step: str | None,
    *,
    mobile: str | None = None,
    name: str | None = None,
) -> None:
    """The binding chat moves to `step` with what was typed so far; None: it is over (forgotten)."""
    if step is None:
        # A Core DELETE on the table: most events end no chat step at all, and the ORM's bulk delete
        # matched its condition against the session first on every one of them (py-spy under
        # bench/line.py). A row of this chat loaded in the session leaves it, so it is never flushed.
        for loaded in list(db.identity_map.values()):
            if isinstance(loaded, LineConversation) and (loaded.channel, loaded.line_user_id) == (
                channel.value,
                line_user_id,
            ):
                db.expunge(loaded)
        # Looked for first: on SQLite a DELETE, even of nothing, takes the database's write lock for the
        # rest of the handling transaction (hub/jobs/line_inbox.py: Inbox.hold says why that matters).
        # Only this person's own events write their chat, one at a time, so nothing comes in between.
        this_chat = {"p_channel": channel.value, "p_user": line_user_id}
        if db.execute(_IN_A_CHAT, this_chat).first() is not None:
            db.execute(_END_CHAT, this_chat)
        return
    row = binding_step(db, channel, line_user_id)
    if row is None:
        row = LineConversation(channel=channel.value, line_user_id=line_user_id, step=step)
        db.add(row)
    row.step, row.mobile, row.name, row.updated_at = step, mobile, name, utcnow()
    db.flush()
