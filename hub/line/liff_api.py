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
from sqlalchemy.orm import Session

from crypto.identity import mask_name
from crypto.verify import Reason
from hub.context import context_of
from hub.line.binding import user_tag
from hub.line.liff_caller import LiffCall, LiffRefusal, TokenIn, liff
from hub.line.links import signed_url
from hub.line.replies import taipei
from hub.line.words import t
from hub.models.identity import Role
from hub.models.venues import Venue
from hub.services import audit, venues
from hub.services.devices.single_check import check_pass
from hub.services.errors import NotAllowed, NotFound
from hub.services.id_card_check import Caller, check_id_card, officer_of_user
from hub.services.valid_passes import own_valid_passes

router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)

REASONS = {
    Reason.VALID: "通行碼有效",
    Reason.NOT_OURS: "不是本系統的通行碼",
    Reason.BAD_ENCODING: "無法辨識的 QR Code",
    Reason.UNKNOWN_KEY: "簽發金鑰不明",
    Reason.BAD_SIGNATURE: "簽章不符（可能偽造）",
    Reason.KEY_RETIRED: "簽發金鑰已停用",
    Reason.KEY_COMPROMISED: "簽發金鑰已失效",
    Reason.NOT_YET_VALID: "通行碼尚未生效",
    Reason.EXPIRED: "通行碼已過期",
    Reason.REVOKED: "通行碼已撤銷",
    Reason.TRUST_EXPIRED: "核驗資料已過期",
    Reason.NO_STATUS: "無撤銷狀態資料",
}
ID_CARD_REMINDER = "請核對持有人的身分證，姓名與身分證號碼須與通行碼相符。"


class VerdictIn(TokenIn):
    text: Annotated[str, Field(min_length=1, max_length=2048)]


class CheckInIn(TokenIn):
    venue_code: Annotated[str, Field(min_length=4, max_length=32)]


@router.post("/police/verdict")
def police_verdict(body: VerdictIn, call: Annotated[LiffCall, liff(Role.OFFICER)]) -> dict[str, Any]:
    try:
        verdict = check_pass(call.db, call.scope, body.text).verdict
    except NotAllowed:
        raise LiffRefusal(403, "forbidden", "僅限已綁定的執勤警員使用掃碼核實。") from None
    claims = verdict.claims
    out: dict[str, Any] = {
        "ok": verdict.ok,
        "verdict": "核准通行" if verdict.ok else "不予通行",
        "reason": REASONS.get(verdict.reason, str(verdict.reason)),
        "reminder": ID_CARD_REMINDER,
    }
    if claims is not None:
        out.update(
            holder=mask_name(claims.holder_name),
            national_id=claims.masked_national_id,
            organisation=claims.org_name,
            expires=taipei(dt.datetime.fromtimestamp(claims.expires_at, dt.UTC)),
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
        "verdict": "核准通行" if answer.ok else "不予通行",
        "reason": answer.message,
        "reminder": ID_CARD_REMINDER,
    }
    if answer.holder_masked is not None:
        out.update(
            holder=answer.holder_masked,
            national_id=answer.national_id_masked,
            organisation=answer.organisation,
            expires=taipei(answer.expires_at) if answer.expires_at is not None else None,
        )
    return out


@router.post("/checkin")
def check_in(body: CheckInIn, call: Annotated[LiffCall, liff()]) -> dict[str, Any]:
    # The mobile was proven by the SMS code at binding: in LINE, one tap is the whole check-in.
    try:
        visit = venues.record_own_visit(call.db, call.scope, body.venue_code)
    except NotFound:
        raise LiffRefusal(404, "not_found", "找不到這個實聯碼。") from None
    venue = call.db.get(Venue, visit.venue_id)
    assert venue is not None  # just recorded against it
    return {
        "venue": venue.name,
        "organisation": venue_org_name(call.db, venue.org_id),
        "visited_at": taipei(visit.visited_at),
        "done": "登記完成",
    }


def venue_org_name(db: Session, org_id: int) -> str:
    from hub.models.organisations import Organisation

    org = db.get(Organisation, org_id)
    return org.name if org is not None else ""


@router.post("/footprint")
def footprint(body: TokenIn, call: Annotated[LiffCall, liff()]) -> dict[str, Any]:
    assert call.account is not None  # liff(): a bound account
    rows = venues.footprint(call.db, call.account.mobile)
    audit.record(call.db, "query.footprint", target=user_tag(call.line_user_id), own=True)
    return {
        "visits": [
            {"venue": v.name, "organisation": o.name, "at": taipei(vi.visited_at)} for vi, v, o in rows
        ]
    }


@router.post("/pass")
def own_pass(body: TokenIn, call: Annotated[LiffCall, liff(Role.EMPLOYEE)]) -> dict[str, Any]:
    """The employee's own valid pass for the 出示通行碼 page: the QR by the same short-lived signed link
    as the chat's pass bubble (hub.line.actions.pass_show), and what the bubble shows beside it."""
    assert call.account is not None  # liff(Role.EMPLOYEE): a bound employee
    rows = own_valid_passes(call.db, call.account)
    if not rows:
        raise LiffRefusal(404, "no_pass", t("line.pass.none"))
    record = rows[-1]
    organisation = call.account.organisation
    # Path and query only: the page loads it from its own origin, which its CSP (img-src 'self') allows
    # whatever base URL the hub's links carry.
    link = urlsplit(signed_url(context_of(call.db), "qr", record.pass_id))
    return {
        "qr": f"{link.path}?{link.query}",
        "holder": mask_name(record.holder_name),
        "national_id": record.masked_national_id,
        "organisation": organisation.name if organisation is not None else "",
        "expires": taipei(record.expires_at),
    }
