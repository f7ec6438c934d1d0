"""What a chat answer is made of, shared by the chat (hub.line.conversation), the menu items
(hub.line.actions) and the data-reads item (hub.line.data_reads): the Outcome of one event, links
into the LIFF pages, a bubble with one link, and times as a person reads them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.core.clock import taipei_words
from hub.line import messages as m


@dataclass
class Outcome:
    messages: list[m.Message] = field(default_factory=list)
    menu: str | None = None  # a role value: link that role's rich menu; "" → the unregistered menu
    # slow work done after the reply, its result pushed: ("sheet" | "venue_posters", account id)
    later: Any = None


def taipei(moment: dt.datetime) -> str:
    """How a time is shown to a person: Asia/Taipei, with the zone said (hub.core.clock)."""
    return taipei_words(moment)


def liff_url(db: Session, channel: str, page: str) -> str:
    settings = context_of(db).settings
    liff_id = settings.liff_id_police if channel == "police" else settings.liff_id_enterprise
    # The LIFF apps' endpoint URL is the hub's base URL, so every page (and /v/{code}) is under it.
    if liff_id:
        return f"https://liff.line.me/{liff_id}/liff/{page}"
    return f"{settings.base_url.rstrip('/')}/liff/{page}"


def link_footer(label: str, uri: str) -> dict[str, Any]:
    """A bubble's footer: one button that opens `uri`."""
    button = {"type": "button", "style": "primary", "action": {"type": "uri", "label": label, "uri": uri}}
    return {"type": "box", "layout": "vertical", "contents": [button]}


def link_bubble(title: str, lines: list[str], label: str, uri: str) -> m.Message:
    body: list[dict[str, Any]] = [
        {"type": "text", "text": title, "weight": "bold", "size": "lg", "wrap": True}
    ]
    body += [{"type": "text", "text": line, "wrap": True, "size": "sm"} for line in lines]
    return {
        "type": "flex",
        "altText": title,
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
            "footer": link_footer(label, uri),
        },
    }


# --- employees' passes ---
