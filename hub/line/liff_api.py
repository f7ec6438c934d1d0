"""What the LIFF pages ask the hub: the police verdict on a scanned pass, the one-tap venue check-in,
the footprint of a LINE user and an employee's own pass to show at a roadblock. Each endpoint gets its
caller from `hub.line.liff_caller` (the ID token verified with LINE Login, the bound account, the
request's unit of work), exactly as in the chat.

The verdict is the checkpoint app's: the same `crypto.verify.verify()` over the same signed trust
bundle and status lists the hub serves to devices; the check is recorded in the check register as one
by that officer (`hub.services.devices.single_check`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from pydantic import Field

from crypto.identity import mask_name
from crypto.verify import Reason
from hub.context import context_of
from hub.core.clock import taipei_minute
from hub.core.vocabulary import Role
from hub.i18n import catalogue
from hub.line.liff_caller import LiffCall, LiffRefusal, TokenIn, liff
from hub.line.links import signed_url
from hub.services import audit, passes, venues
from hub.services.devices.single_check import check_pass
from hub.services.errors import NotAllowed, NotFound
from hub.services.id_card_check import Caller, check_id_card, officer_of_user
from hub.services.line_bindings import user_tag
from hub.services.valid_passes import own_valid_passes

router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)


def reason_words(call: LiffCall, reason: Reason) -> str:
    """A verdict's reason in the page's language (`liff.reason.<reason>`; one this hub does not word yet
    is named, never shown as a bare code)."""
    key = f"liff.reason.{reason.value}"
    return call.t(key) if catalogue.has(key) else call.t("liff.reason.other", reason=reason.value)


def verdict_words(call: LiffCall, ok: bool) -> str:
    return call.t("liff.verdict.ok") if ok else call.t("liff.verdict.refused")


def at_taipei(call: LiffCall, moment: dt.datetime) -> str:
    """A time as the page shows it: Taipei time, the zone said in the page's language."""
    return call.t("liff.at_taipei", at=taipei_minute(moment))


class VerdictIn(TokenIn):
    text: Annotated[str, Field(min_length=1, max_length=2048)]


class CheckInIn(TokenIn):
    venue_code: Annotated[str, Field(min_length=4, max_length=32)]


@router.post("/police/verdict")
def police_verdict(body: VerdictIn, call: Annotated[LiffCall, liff(Role.OFFICER)]) -> dict[str, Any]:
    try:
        verdict = check_pass(call.db, call.scope, body.text).verdict
    except NotAllowed:
        raise LiffRefusal(403, "forbidden", call.t("liff.scan.officers_only")) from None
    claims = verdict.claims
    out: dict[str, Any] = {
        "ok": verdict.ok,
        "verdict": verdict_words(call, verdict.ok),
        "reason": reason_words(call, verdict.reason),
        "reminder": call.t("liff.scan.reminder"),
    }
    if claims is not None:
        out.update(
            holder=mask_name(claims.holder_name),
            national_id=claims.masked_national_id,
            organisation=claims.org_name,
            expires=at_taipei(call, dt.datetime.fromtimestamp(claims.expires_at, dt.UTC)),
        )
    return out


class IdCheckIn(TokenIn):
    national_id: Annotated[str, Field(min_length=1, max_length=32)]


@router.post("/police/id-check")
def police_id_check(body: IdCheckIn, call: Annotated[LiffCall, liff(Role.OFFICER)]) -> dict[str, Any]:
    """The ID-card check (hub.services.id_card_check): the same answer the checkpoint app gets."""
    account = call.scope.user
    caller = Caller(officer=officer_of_user(call.db, account), user=account, client_ip=call.client_ip)
    answer = check_id_card(call.db, caller, body.national_id)
    out: dict[str, Any] = {
        "ok": answer.ok,
        "status": answer.status.value,
        "verdict": verdict_words(call, answer.ok),
        "reason": answer.message_in(call.language),
        "reminder": call.t("liff.scan.reminder"),
    }
    if answer.holder_masked is not None:
        out.update(
            holder=answer.holder_masked,
            national_id=answer.national_id_masked,
            organisation=answer.organisation,
            expires=at_taipei(call, answer.expires_at) if answer.expires_at is not None else None,
        )
    return out


@router.post("/checkin")
def check_in(body: CheckInIn, call: Annotated[LiffCall, liff()]) -> dict[str, Any]:
    # The mobile was proven by the SMS code at binding: in LINE, one tap is the whole check-in.
    try:
        visit = venues.record_own_visit(call.db, call.scope, body.venue_code)
    except NotFound:
        raise LiffRefusal(404, "not_found", call.t("liff.venue.no_such_code")) from None
    venue, org = venues.where_visited(call.db, visit)
    return {
        "venue": venue.name,
        "organisation": org.name,
        "visited_at": at_taipei(call, visit.visited_at),
        "done": call.t("liff.venue.done"),
    }


@router.post("/footprint")
def footprint(body: TokenIn, call: Annotated[LiffCall, liff()]) -> dict[str, Any]:
    assert call.account is not None  # liff(): a bound account
    rows = venues.footprint(call.db, call.account.mobile)
    audit.record(call.db, "query.footprint", target=user_tag(call.line_user_id), own=True)
    return {
        "visits": [
            {"venue": v.name, "organisation": o.name, "at": at_taipei(call, vi.visited_at)}
            for vi, v, o in rows
        ]
    }


@router.post("/pass")
def own_pass(body: TokenIn, call: Annotated[LiffCall, liff(Role.EMPLOYEE)]) -> dict[str, Any]:
    """The employee's own valid pass for the 出示通行碼 page: the QR by the same short-lived signed link
    as the chat's pass bubble (hub.line.actions.pass_show), and what the bubble shows beside it."""
    assert call.account is not None  # liff(Role.EMPLOYEE): a bound employee
    rows = own_valid_passes(call.db, call.account)
    if not rows:
        raise LiffRefusal(404, "no_pass", call.t("line.pass.none"))
    record = rows[-1]
    shown = passes.PassOut.of(record)  # the holder masked, as the chat's bubble shows them
    organisation = call.account.organisation
    # Path and query only: the page loads it from its own origin, which its CSP (img-src 'self') allows
    # whatever base URL the hub's links carry.
    link = urlsplit(signed_url(context_of(call.db), "qr", record.pass_id))
    return {
        "qr": f"{link.path}?{link.query}",
        "holder": shown.holder_name_masked,
        "national_id": shown.masked_national_id,
        "organisation": organisation.name if organisation is not None else "",
        "expires": at_taipei(call, record.expires_at),
    }
