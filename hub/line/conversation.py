"""One event in, the messages to answer with out: the chat of both official accounts.

Postback data and message text are untrusted input. Postback data names an action and, at most, ids;
whatever it names, the caller is looked up again (binding → the person's current accounts) and the
services decide what that account may do. The answer is a list of at most five messages (LINE's limit
for one reply) and, when the caller's role changed, the rich menu to show (`menu`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from sqlalchemy.orm import Session

from crypto.identity import MAX_PERSON_NAME_CHARS
from hub.context import context_of
from hub.core.fields import name_problem
from hub.core.masking import mask_mobile
from hub.core.phone import InvalidMobile, normalize_mobile
from hub.core.vocabulary import ChannelName
from hub.errors import HubError
from hub.line import actions  # the menu items over the services
from hub.line import messages as m
from hub.line.channels import role_label
from hub.line.data_reads import WORDS as DATA_READ_WORDS
from hub.line.replies import Outcome, liff_url
from hub.line.words import t, words_of
from hub.services import line_bindings, otp, support
from hub.services.errors import DomainError
from hub.services.line_bindings import (
    BINDING_PURPOSE,
    Caller,
    accounts_of,
    bind,
    caller_of,
    is_known,
    user_tag,
)

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.line import LineConversation

log = logging.getLogger(__name__)

_CODE = re.compile(r"\d{6}")
# What a person may type instead of tapping 註冊 登入 (in either language of the catalogue).
REGISTER_WORDS = words_of("line.words.register")
# Typed words for the venue-code items of an organisation's admins (no rich-menu button: both admin menus
# are full; 申請實聯碼's answer offers them as quick replies).
TYPED_ACTIONS = {
    **{word: "venue_posters" for word in words_of("line.words.venue_posters")},
    **{word: "venue_visits" for word in words_of("line.words.venue_visits")},
}

# Actions every caller may ask for; the rest need a bound caller and go to `hub.line.actions`.
OPEN_ACTIONS = {"register", "faq", "support", "help"}


@dataclass(frozen=True)
class Incoming:
    """What the chat needs from a webhook event (built from the SDK's parsed event)."""

    channel: ChannelName
    kind: str  # follow / unfollow / text / postback / other; support_reply: the console's answer
    line_user_id: str
    text: str = ""
    data: dict[str, str] = field(default_factory=dict)
    display_name: str | None = None  # follow: the user's LINE display name, when LINE gave it


def parse_postback(data: str) -> dict[str, str]:
    """`a=faq&q=venue_code` → {"a": "faq", "q": "venue_code"}; junk gives {} (answered as unknown)."""
    if len(data) > 300:
        return {}
    try:
        parsed = parse_qs(data, keep_blank_values=False, strict_parsing=True, max_num_fields=8)
    except ValueError:
        return {}
    return {key: values[0] for key, values in parsed.items() if values}


def handle(db: Session, incoming: Incoming) -> Outcome:
    """Answer one event. Changes made here are committed by the caller together with the event record."""
    if incoming.kind == "follow":
        _set_step(db, incoming, None)
        caller, _ = caller_of(db, incoming.channel, incoming.line_user_id)
        greeting = m.greeting(incoming.channel, incoming.display_name)
        return Outcome([greeting], menu=caller.primary.role if caller else "")
    if incoming.kind == support.REPLY_KIND:
        # The console answered this user's 詢問客服 (hub.services.support.reply): pushed, with the FAQ
        # and 詢問客服 under it so the person can write back.
        answer = t("line.support.answer", reply=incoming.text)
        return Outcome([m.text(answer, quick_reply=m.faq_quick_reply(incoming.channel))])
    if incoming.kind == "unfollow":
        _set_step(db, incoming, None)  # the binding stays: unblocking the account finds it again
        return Outcome()
    if incoming.kind not in ("text", "postback"):
        return Outcome([m.text(t("line.text_only"), quick_reply=m.faq_quick_reply(incoming.channel))])

    # One event of a person at a time: a message sent twice (the code typed twice, a double tap) is
    # answered after the first is done, from what the first did, never as a race between them. The inbox
    # sees to it (hub/jobs/line_inbox.py: only a person's oldest pending row can be taken, and it is done
    # only once answered); the lock this function took on top cost a PostgreSQL round trip per event.
    caller, lost = caller_of(db, incoming.channel, incoming.line_user_id)
    if lost:
        _set_step(db, incoming, None)
        return Outcome(
            [m.text(t("line.binding.role_lost") + "\n" + t("line.unbound"))],
            menu="",
        )

    if incoming.kind == "postback":
        action = incoming.data.get("a", "")
        if action in OPEN_ACTIONS:
            _set_step(db, incoming, None)
            return _open_action(db, incoming, caller, action)
        if caller is None:
            return Outcome([m.text(t("line.unbound"))], menu="")
        _set_step(db, incoming, None)
        return actions.run(db, caller, action, incoming.data)

    return _text(db, incoming, caller)


def _open_action(db: Session, incoming: Incoming, caller: Caller | None, action: str) -> Outcome:
    channel = incoming.channel
    if action == "faq":
        key = incoming.data.get("q", "")
        if key not in m.CHANNEL_FAQ[channel]:
            return Outcome([m.text(t("line.faq.choose"), quick_reply=m.faq_quick_reply(channel))])
        return Outcome([m.faq_answer(channel, key)])
    if action == "support":
        _set_step(db, incoming, "support")
        return Outcome([m.text(t("line.support.prompt"))])
    if action == "help":
        return Outcome([m.text(_usage(channel), quick_reply=m.faq_quick_reply(channel))])
    # register
    if caller is not None:
        return Outcome(
            [m.text(t("line.binding.already_bound", roles=_roles_text(caller)))], menu=caller.primary.role
        )
    if channel is ChannelName.ENTERPRISE:
        _set_step(db, incoming, "mobile")
        prompt = t("line.binding.mobile_prompt") + "\n"
        prompt += t("line.binding.enterprise_form", url=liff_url(db, "enterprise", "enterprise/register"))
    else:
        # The police channel knows a person by name and mobile, as the checkpoint app's officer login.
        _set_step(db, incoming, "name")
        prompt = t("line.binding.name_prompt") + "\n"
        prompt += t("line.binding.station_form", url=liff_url(db, "police", "police/register"))
    return Outcome([m.text(prompt)])


def _text(db: Session, incoming: Incoming, caller: Caller | None) -> Outcome:
    channel, words = incoming.channel, incoming.text.strip()
    conversation = _conversation(db, incoming)
    step = conversation.step if conversation is not None else None
    if step == "support" and words:
        support.store(db, channel, incoming.line_user_id, caller.mobile if caller else None, words)
        _set_step(db, incoming, None)
        return Outcome([m.text(t("line.support.received"))])
    if words in REGISTER_WORDS:
        _set_step(db, incoming, None)
        return _open_action(db, incoming, caller, "register")
    if words in DATA_READ_WORDS and caller is not None:
        return actions.run(db, caller, "data_reads", {})
    if words in TYPED_ACTIONS and caller is not None:
        return actions.run(db, caller, TYPED_ACTIONS[words], {})
    if words == m.SUPPORT_QUESTION:
        return _open_action(db, incoming, caller, "support")
    faq = m.FAQ_BY_QUESTION.get(words)
    if faq is not None and faq.key in m.CHANNEL_FAQ[channel]:
        return Outcome([m.faq_answer(channel, faq.key)])
    if step == "name" and conversation is not None:
        return _name_given(db, incoming, words)
    if step == "mobile" and conversation is not None:
        return _mobile_given(db, incoming, conversation, words)
    if step == "code" and conversation is not None:
        return _code_given(db, incoming, conversation, words)
    if caller is not None and _CODE.fullmatch(words):
        # the code again after it bound (sent twice): the binding stands, said as the first answer said
        again = t("line.binding.already_bound", roles=_roles_text(caller)) + "\n" + t("line.use_menu")
        return Outcome([m.text(again)])
    return Outcome([m.text(t("line.use_menu_or_faq"), quick_reply=m.faq_quick_reply(channel))])


def _name_given(db: Session, incoming: Incoming, words: str) -> Outcome:
    """The police channel's first step. Any name a roster could hold is taken as typed (whether it is on
    one is not said here); what no roster name can be (empty, too long, symbols, a mobile typed first)
    is asked again."""
    name = " ".join(words.split())
    if not name or len(name) > MAX_PERSON_NAME_CHARS or name_problem(name) is not None or _is_mobile(name):
        return Outcome([m.text(t("line.binding.name_again"))])
    _set_step(db, incoming, "mobile", name=name)
    return Outcome([m.text(t("line.binding.mobile_next"))])


def _is_mobile(words: str) -> bool:
    try:
        normalize_mobile(words)
    except InvalidMobile:
        return False
    return True


def _mobile_given(db: Session, incoming: Incoming, conversation: LineConversation, words: str) -> Outcome:
    try:
        mobile = normalize_mobile(words)
    except InvalidMobile:
        return Outcome([m.text(t("line.binding.bad_mobile"))])
    name = conversation.name if incoming.channel is ChannelName.POLICE else None
    # The same answer whether or not the hub knows the number (and, in the police channel, the name with
    # it), so nobody can probe who is registered or on which roster; a code is sent only to a known
    # one. The LINE user stands in for the client address in the caps. A code is recorded either way
    # (same caps, same timing) but delivered only on a match.
    try:
        known = is_known(db, incoming.channel, mobile, name)
        otp.request_code(db, mobile, BINDING_PURPOSE, user_tag(incoming.line_user_id), deliver=known)
    except (HubError, DomainError) as exc:
        # A refused resend keeps the person where they were: the code already sent to this number is
        # still valid, so the next thing typed is taken as that code, not as a mobile.
        _set_step(db, incoming, "code", mobile=mobile, name=name)
        return Outcome([m.text(_otp_refusal(exc))])
    _set_step(db, incoming, "code", mobile=mobile, name=name)
    if incoming.channel is ChannelName.POLICE:
        minutes = max(1, context_of(db).settings.otp_ttl_seconds // 60)
        # The checkpoint app's `login_code_sent`: when the code arrives if name and mobile match, and
        # whom to ask if none comes (the answer cannot say which).
        sent = t("line.binding.code_sent_police", mobile=mask_mobile(mobile), minutes=minutes)
        return Outcome([m.text(sent)])
    return Outcome([m.text(t("line.binding.code_sent", mobile=mask_mobile(mobile)))])


def _code_given(db: Session, incoming: Incoming, conversation: LineConversation, words: str) -> Outcome:
    if not _CODE.fullmatch(words) or conversation.mobile is None:
        return Outcome([m.text(t("line.binding.code_expected"))])
    mobile = conversation.mobile
    try:
        otp.verify_code(db, mobile, BINDING_PURPOSE, words)
    except (HubError, DomainError):
        # One answer for a wrong, expired, used or never-sent code: the difference would tell a
        # stranger whether the number is registered.
        return Outcome([m.text(t("line.binding.code_wrong"))])
    name = conversation.name if incoming.channel is ChannelName.POLICE else None
    accounts = accounts_of(db, incoming.channel, mobile, name)
    _set_step(db, incoming, None)
    if not accounts:
        return Outcome([m.text(t("line.binding.no_role"))])
    caller = bind(db, incoming.channel, incoming.line_user_id, mobile, accounts, name=name)
    return Outcome(
        [m.text(t("line.binding.bound", roles=_roles_text(caller)) + "\n" + t("line.use_menu"))],
        menu=caller.primary.role,
    )


def _otp_refusal(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    reason = getattr(exc, "reason", "")
    if status == 429 or reason.startswith("too_many"):
        wait = getattr(exc, "retry_after", None)
        if isinstance(wait, int) and wait > 0:
            return t("line.binding.too_many_wait", seconds=wait)
        return t("line.binding.too_many")
    return t("line.binding.sms_failed")


def _roles_text(caller: Caller) -> str:
    parts = []
    for account in caller.accounts:
        role = role_label(account.role)
        org = account.organisation.name if account.organisation is not None else ""
        parts.append(t("line.role_at", role=role, org=org) if org else role)
    return t("line.separator").join(parts)


def _usage(channel: ChannelName) -> str:
    if channel is ChannelName.POLICE:
        return t("line.usage.police")
    return t("line.usage.enterprise")


def _conversation(db: Session, incoming: Incoming) -> LineConversation | None:
    return line_bindings.binding_step(db, incoming.channel, incoming.line_user_id)


def _set_step(
    db: Session, incoming: Incoming, step: str | None, *, mobile: str | None = None, name: str | None = None
) -> None:
    line_bindings.set_binding_step(
        db, incoming.channel, incoming.line_user_id, step, mobile=mobile, name=name
    )
