"""What the two official accounts say (zh-TW first; the words of docs/requirements.md where it has them;
the texts are in the message catalogue, hub.line.words), as Messaging API message objects (plain dicts
in the spec's shape: they are stored in the reply outbox as they are)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hub.core.vocabulary import ChannelName
from hub.line.words import CHAT_LANGUAGE, t

Message = dict[str, Any]


@dataclass(frozen=True)
class Faq:
    key: str
    question: str  # the requirements' words; also the quick-reply label (LINE allows 20 characters)
    answer: str


def _faqs(language: str = CHAT_LANGUAGE) -> tuple[Faq, ...]:
    # Each key written out (not built from `key`), so that the catalogue check finds every one.
    return (
        Faq(
            "venue_code",
            t("line.faq.venue_code.question", language),
            t("line.faq.venue_code.answer", language),
        ),
        Faq(
            "employee_pass",
            t("line.faq.employee_pass.question", language),
            t("line.faq.employee_pass.answer", language),
        ),
        Faq(
            "how_to_use",
            t("line.faq.how_to_use.question", language),
            t("line.faq.how_to_use.answer", language),
        ),
        Faq(
            "many_passes",
            t("line.faq.many_passes.question", language),
            t("line.faq.many_passes.answer", language),
        ),
        Faq(
            "station_apply",
            t("line.faq.station_apply.question", language),
            t("line.faq.station_apply.answer", language),
        ),
        Faq(
            "officer_code",
            t("line.faq.officer_code.question", language),
            t("line.faq.officer_code.answer", language),
        ),
        Faq("export", t("line.faq.export.question", language), t("line.faq.export.answer", language)),
    )


_FAQ_LIST = _faqs()
FAQ = {faq.key: faq for faq in _FAQ_LIST}
FAQ_BY_QUESTION = {faq.question: faq for faq in _FAQ_LIST}
# The greeting of docs/requirements.md (LINE@ 入口, both accounts).
GREETING = t("line.greeting")
SUPPORT_QUESTION = t("line.support.question")

CHANNEL_FAQ: dict[ChannelName, tuple[str, ...]] = {
    ChannelName.ENTERPRISE: ("venue_code", "employee_pass", "how_to_use", "many_passes"),
    ChannelName.POLICE: ("station_apply", "officer_code", "export"),
}


def postback(label: str, action: str, display: str | None = None, **params: str | int) -> dict[str, Any]:
    """A postback action. Its data names an action and ids only: never personal data (it is echoed back
    by LINE and may be logged by anyone on the way)."""
    return {
        "type": "postback",
        "label": label[:20],
        "data": urlencode({"a": action, **params}),
        "displayText": display or label,
    }


def faq_quick_reply(channel: ChannelName) -> dict[str, Any]:
    items = [
        {"type": "action", "action": postback(FAQ[key].question, "faq", q=key)}
        for key in CHANNEL_FAQ[channel]
    ]
    items.append({"type": "action", "action": postback(SUPPORT_QUESTION, "support")})
    return {"items": items}


def text(body: str, *, quick_reply: dict[str, Any] | None = None) -> Message:
    message: Message = {"type": "text", "text": body[:5000]}
    if quick_reply is not None:
        message["quickReply"] = quick_reply
    return message


def greeting(channel: ChannelName) -> Message:
    return text(GREETING, quick_reply=faq_quick_reply(channel))


def faq_answer(channel: ChannelName, key: str) -> Message:
    return text(FAQ[key].answer, quick_reply=faq_quick_reply(channel))
