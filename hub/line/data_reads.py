"""「誰查看了我的資料」 in LINE: the chat item (postback `a=data_reads`, or the words in `WORDS`), the LIFF
page `/liff/{channel}/data-reads` and its API. The person is the bound account's SMS-proven mobile; what
is shown is hub.services.data_reads' list and nothing more. An unbound LINE user gets nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import Field
from sqlalchemy.orm import Session

from hub.line import messages as m
from hub.line.liff_caller import LiffCall, TokenIn, liff
from hub.line.pages import _liff_page
from hub.line.replies import Outcome, liff_url, link_bubble
from hub.line.words import t, words_of
from hub.services import data_reads
from hub.services.line_bindings import Caller

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.identity import User

WORDS = words_of("line.words.data_reads")
CHAT_ITEMS = 10

api_router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)
page_router = APIRouter(prefix="/liff", tags=["line"], include_in_schema=False)


def chat_item(db: Session, caller: Caller, account: User) -> Any:
    shown = [r.shown() for r in data_reads.reads_of(db, caller.mobile)]
    lines = [
        t("line.reads.line", **{k: r[k] for k in ("at", "reader", "what", "masking")})
        for r in shown[:CHAT_ITEMS]
    ]
    head = t("line.reads.head", n=len(shown)) if shown else t("line.reads.none")
    more = "\n" + t("line.reads.more", n=len(shown) - CHAT_ITEMS) if len(shown) > CHAT_ITEMS else ""
    channel = caller.channel.value
    return Outcome(
        [
            m.text(head + ("\n" + "\n".join(lines) if lines else "") + more),
            link_bubble(
                t("line.reads.title"),
                [t("line.reads.hint")],
                t("line.reads.open"),
                liff_url(db, channel, f"{channel}/data-reads"),
            ),
        ]
    )


def _mobile(call: LiffCall) -> str:
    assert call.account is not None  # liff(): a bound account, or refused before this runs
    return call.account.mobile


@api_router.post("/data-reads")
def reads(body: TokenIn, call: Annotated[LiffCall, liff()]) -> dict[str, Any]:
    return {"reads": [r.shown() for r in data_reads.reads_of(call.db, _mobile(call))]}


class ProofIn(TokenIn):
    event_id: Annotated[int, Field(ge=1, le=2**62)]


@api_router.post("/data-reads/proof")
def proof(body: ProofIn, call: Annotated[LiffCall, liff()]) -> dict[str, Any]:
    return data_reads.proof_of_read(call.db, _mobile(call), body.event_id)


@page_router.get("/{channel}/data-reads")
def page(channel: str, request: Request) -> HTMLResponse:
    which = "police" if channel == "police" else "enterprise"
    return _liff_page(request, which, "data_reads", "line.reads.title")
