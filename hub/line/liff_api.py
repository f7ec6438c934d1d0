"""What the LIFF pages ask the hub: the police verdict on a scanned pass, the one-tap venue check-in and
the footprint of a LINE user. The LIFF ID token is verified server side with LINE Login
(`POST {HUB_LINE_LOGIN_API_URL}/oauth2/v2.1/verify`); its `sub` is the LINE user, whose binding and
current roles decide what they may do, exactly as in the chat.

The verdict is the checkpoint app's: the same `crypto.verify.verify()` over the same signed trust
bundle and status lists the hub serves to devices; the check is recorded in the check register as one
by that officer (`hub.devices.single_check`).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crypto.identity import mask_name
from crypto.verify import Reason
from hub.core.config import Settings
from hub.devices.single_check import check_pass
from hub.line.actions import taipei
from hub.line.binding import caller_of
from hub.line.channels import ChannelName
from hub.models.identity import Role, User
from hub.models.venues import Venue
from hub.services import audit, venues
from hub.services.errors import NotAllowed, NotAuthenticated, NotFound
from hub.services.scope import Scope

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


class TokenIn(BaseModel):
    id_token: Annotated[str, Field(min_length=10, max_length=4096)]


class VerdictIn(TokenIn):
    text: Annotated[str, Field(min_length=1, max_length=2048)]


class CheckInIn(TokenIn):
    venue_code: Annotated[str, Field(min_length=4, max_length=32)]


async def line_user_of(settings: Settings, id_token: str) -> str:
    """The LINE user ID of a valid ID token issued for our LINE Login channel; NotAuthenticated else."""
    if not settings.line_login_channel_id:
        raise NotAuthenticated("LINE Login is not configured")
    url = settings.line_login_api_url.rstrip("/") + "/oauth2/v2.1/verify"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            url, data={"id_token": id_token, "client_id": settings.line_login_channel_id}
        )
    if response.status_code != 200:
        raise NotAuthenticated("the LINE ID token is not valid")
    claims = response.json()
    if (
        claims.get("aud") != settings.line_login_channel_id
        or claims.get("iss") != "https://access.line.me"
        or int(claims.get("exp", 0)) <= time.time()
        or not str(claims.get("sub", "")).startswith("U")
    ):
        raise NotAuthenticated("the LINE ID token is not for this hub")
    return str(claims["sub"])


def _refusal(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


async def _user(request: Request, id_token: str) -> str | JSONResponse:
    try:
        return await line_user_of(request.app.state.settings, id_token)
    except NotAuthenticated:
        return _refusal(401, "not_authenticated", "LINE 登入已失效，請重新開啟頁面。")
    except httpx.HTTPError:
        return _refusal(502, "line_unreachable", "暫時無法向 LINE 確認身分，請稍後再試。")


@router.post("/police/verdict")
async def police_verdict(body: VerdictIn, request: Request) -> JSONResponse:
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user
    import asyncio

    return await asyncio.to_thread(_verdict_in_db, request.app.state.sessionmaker, user, body.text)


def _verdict_in_db(sessions: Any, line_user_id: str, text: str) -> JSONResponse:
    with sessions() as db:
        caller, _ = caller_of(db, ChannelName.POLICE, line_user_id)
        officer_account = caller.account(Role.OFFICER) if caller else None
        try:
            if officer_account is None:
                raise NotAllowed("not a bound duty officer")
            verdict = check_pass(db, Scope.of(officer_account), text).verdict
        except NotAllowed:
            db.commit()  # a binding removed for a lost role stays removed
            return _refusal(403, "forbidden", "僅限已綁定的執勤警員使用掃碼核實。")
        db.commit()
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
        return JSONResponse(out)


@router.post("/checkin")
async def check_in(body: CheckInIn, request: Request) -> JSONResponse:
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user
    import asyncio

    return await asyncio.to_thread(_check_in_db, request.app.state.sessionmaker, user, body.venue_code)


def _bound_account(db: Session, line_user_id: str) -> User | None:
    for channel in ChannelName:
        caller, _ = caller_of(db, channel, line_user_id)
        if caller is not None:
            return caller.primary
    return None


def _check_in_db(sessions: Any, line_user_id: str, venue_code: str) -> JSONResponse:
    with sessions() as db:
        account = _bound_account(db, line_user_id)
        if account is None:
            db.commit()  # a binding removed for a lost role stays removed
            return _refusal(403, "not_bound", "此 LINE 帳號尚未綁定手機，請以手機簡訊驗證碼登記。")
        # The mobile was proven by the SMS code at binding: in LINE, one tap is the whole check-in.
        try:
            visit = venues.record_own_visit(db, Scope.of(account), venue_code)
        except NotFound:
            db.rollback()
            return _refusal(404, "not_found", "找不到這個實聯碼。")
        db.commit()
        venue = db.get(Venue, visit.venue_id)
        assert venue is not None  # just recorded against it
        org = venue_org_name(db, venue.org_id)
        return JSONResponse(
            {
                "venue": venue.name,
                "organisation": org,
                "visited_at": taipei(visit.visited_at),
                "done": "登記完成",
            }
        )


def venue_org_name(db: Session, org_id: int) -> str:
    from hub.models.organisations import Organisation

    org = db.get(Organisation, org_id)
    return org.name if org is not None else ""


@router.post("/footprint")
async def footprint(body: TokenIn, request: Request) -> JSONResponse:
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user
    with request.app.state.sessionmaker() as db:
        account = _bound_account(db, user)
        mobile = None if account is None else account.mobile
        if mobile is None:
            return _refusal(403, "not_bound", "此 LINE 帳號尚未綁定手機。")
        rows = venues.footprint(db, mobile)
        audit.record(
            db, "query.footprint", target="line:" + uuid.uuid5(uuid.NAMESPACE_URL, user).hex[:12], own=True
        )
        db.commit()
        return JSONResponse(
            {
                "visits": [
                    {"venue": v.name, "organisation": o.name, "at": taipei(vi.visited_at)}
                    for vi, v, o in rows
                ]
            }
        )
