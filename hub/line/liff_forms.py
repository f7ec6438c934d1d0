"""The LIFF forms' endpoints: enterprise registration (and binding), the venue-code application, the
employee whitelist (one by one, .xlsx) and issuing passes. Each takes the LIFF ID token, finds the bound
caller and the account of the needed role, and calls the services with that account as the actor.

Refusals are JSON `{"error", "message"}` with a zh-TW message for the page; the services' own
refusals keep their reason word.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from hub.core.fields import Address, Mobile, NationalId, OrgName, PersonName, Phone, Ubn, VenueName
from hub.errors import HubError, http_status_of
from hub.line.binding import Caller, accounts_of, bind, caller_of
from hub.line.channels import ChannelName
from hub.line.liff_api import TokenIn, _refusal, _user
from hub.models.identity import Role, User
from hub.models.passes import Pass
from hub.services import enterprises, passes, venues
from hub.services.errors import DomainError
from hub.services.scope import Scope

router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)

_MESSAGES = {
    "already_registered": "此統一編號已註冊。",
    "address_required": "請填寫營業地址。",
    "duplicate": "名單上已有相同的資料。",
    "too_many_venues": "實聯碼數量已達上限。",
    "import_refused": "檔案中有錯誤，未匯入任何資料。",
}


def _service_refusal(exc: HubError | DomainError) -> JSONResponse:
    status = http_status_of(exc) if isinstance(exc, DomainError) else exc.status_code
    reason = exc.reason
    if reason.startswith("code_"):
        return _refusal(400, reason, "驗證碼不正確或已失效。")
    detail = exc.detail if isinstance(exc.detail, dict | list) else None
    body = {
        "error": reason,
        "message": _MESSAGES.get(reason, "無法完成，請確認填寫的資料。"),
        "detail": detail,
    }
    return JSONResponse(body, status_code=status if 400 <= status < 500 else 400)


class RegistrationIn(TokenIn):
    company_name: OrgName
    ubn: Ubn
    admin_name: PersonName
    admin_mobile: Mobile
    code: Annotated[str, Field(min_length=6, max_length=6)]


class VenueApplicationIn(TokenIn):
    address: Address
    contact_name: PersonName
    contact_phone: Phone
    names: Annotated[list[VenueName], Field(min_length=1, max_length=20)]


class EmployeeIn(TokenIn):
    name: PersonName
    mobile: Mobile
    national_id: NationalId


def _account(
    db: Session, channel: ChannelName, line_user_id: str, *roles: Role
) -> tuple[Caller, User] | None:
    caller, _ = caller_of(db, channel, line_user_id)
    if caller is None:
        return None
    for role in roles:
        account = caller.account(role)
        if account is not None:
            return caller, account
    return None


def _not_allowed(db: Session) -> JSONResponse:
    db.commit()  # a binding removed for a lost role stays removed
    return _refusal(403, "forbidden", "此頁僅限已綁定的企業（或分局）管理者使用。")


@router.post("/enterprise/register")
async def register_enterprise(body: RegistrationIn, request: Request) -> JSONResponse:
    """The seed's 企業流程一 in LIFF: the SMS code that registers the enterprise also binds this LINE user."""
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user

    def work() -> JSONResponse | tuple[JSONResponse, str]:
        with request.app.state.sessionmaker() as db:
            caller, _ = caller_of(db, ChannelName.ENTERPRISE, user)
            if caller is not None:
                return _refusal(409, "already_bound", "此 LINE 帳號已綁定，請勿重複註冊。")
            data = enterprises.EnterpriseRegistration(
                company_name=body.company_name,
                ubn=body.ubn,
                admin_name=body.admin_name,
                admin_mobile=body.admin_mobile,
                code=body.code,
            )
            try:
                result = enterprises.register(db, data, None)
            except (HubError, DomainError) as exc:
                db.rollback()
                return _service_refusal(exc)
            if not isinstance(result, enterprises.Registered):
                db.commit()  # the claim waits for a hub admin's review; nothing is bound yet
                return _refusal(
                    202, "held_for_review", "此統一編號已有企業註冊，您的申請已送交管理中心審核。"
                )
            org = result.org
            bound = bind(
                db,
                ChannelName.ENTERPRISE,
                user,
                body.admin_mobile,
                accounts_of(db, ChannelName.ENTERPRISE, body.admin_mobile),
            )
            db.commit()
            return JSONResponse(
                {"organisation": org.name, "done": "註冊成功"}, status_code=201
            ), bound.primary.role

    result = await asyncio.to_thread(work)
    if isinstance(result, tuple):
        response, role = result
        if request.app.state.line is not None:
            await request.app.state.line.menus.show(ChannelName.ENTERPRISE, user, role)
        return response
    return result


@router.post("/venues")
async def apply_for_venues(body: VenueApplicationIn, request: Request) -> JSONResponse:
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user

    def work() -> JSONResponse:
        with request.app.state.sessionmaker() as db:
            found = _account(db, ChannelName.ENTERPRISE, user, Role.ENTERPRISE_ADMIN) or _account(
                db, ChannelName.POLICE, user, Role.STATION_ADMIN
            )
            if found is None:
                return _not_allowed(db)
            _, account = found
            assert account.org_id is not None
            try:
                _, created = venues.apply_for_venues(
                    db,
                    Scope.of(account),
                    org_id=account.org_id,
                    names=list(body.names),
                    address=body.address,
                    contact_name=body.contact_name,
                    contact_phone=body.contact_phone,
                )
            except (HubError, DomainError) as exc:
                db.rollback()
                return _service_refusal(exc)
            db.commit()
            return JSONResponse(
                {
                    "venues": [
                        {"name": v.name, "code": v.code, "url": venues.venue_url(db, v)} for v in created
                    ]
                },
                status_code=201,
            )

    return await asyncio.to_thread(work)


@router.post("/employees")
async def add_employee(body: EmployeeIn, request: Request) -> JSONResponse:
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user

    def work() -> JSONResponse:
        with request.app.state.sessionmaker() as db:
            found = _account(db, ChannelName.ENTERPRISE, user, Role.ENTERPRISE_ADMIN)
            if found is None:
                return _not_allowed(db)
            _, account = found
            assert account.org_id is not None
            try:
                data = enterprises.EmployeeIn(
                    name=body.name, mobile=body.mobile, national_id=body.national_id
                )
                enterprises.add_employee(db, Scope.of(account), org_id=account.org_id, data=data)
            except ValueError:
                return _refusal(422, "invalid_request", "請確認姓名、手機與身分證字號。")
            except (HubError, DomainError) as exc:
                db.rollback()
                return _service_refusal(exc)
            db.commit()
            return JSONResponse(_whitelist(db, account), status_code=201)

    return await asyncio.to_thread(work)


@router.post("/employees/import")
async def import_employees(
    request: Request, id_token: Annotated[str, Form(max_length=4096)], file: Annotated[UploadFile, File()]
) -> JSONResponse:
    user = await _user(request, id_token)
    if isinstance(user, JSONResponse):
        return user
    data = await file.read()

    def work() -> JSONResponse:
        with request.app.state.sessionmaker() as db:
            found = _account(db, ChannelName.ENTERPRISE, user, Role.ENTERPRISE_ADMIN)
            if found is None:
                return _not_allowed(db)
            _, account = found
            assert account.org_id is not None
            try:
                created = enterprises.import_employees(
                    db, Scope.of(account), org_id=account.org_id, data=data
                )
            except (HubError, DomainError) as exc:
                db.rollback()
                return _service_refusal(exc)
            db.commit()
            return JSONResponse(dict(_whitelist(db, account), imported=len(created)), status_code=201)

    return await asyncio.to_thread(work)


@router.post("/passes/issue")
async def issue_missing_passes(body: TokenIn, request: Request) -> JSONResponse:
    """申請通行碼: a pass for every employee on the whitelist who has no valid one."""
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user

    def work() -> JSONResponse:
        with request.app.state.sessionmaker() as db:
            found = _account(db, ChannelName.ENTERPRISE, user, Role.ENTERPRISE_ADMIN)
            if found is None:
                return _not_allowed(db)
            _, account = found
            assert account.org_id is not None
            scope = Scope.of(account)
            covered = {p.employee_id for p in _valid_passes(db, account)}
            employees = enterprises.list_employees(db, scope, org_id=account.org_id)
            missing = [e.id for e in employees if e.id not in covered]
            try:
                issued = passes.issue_passes(db, scope, org_id=account.org_id, employee_ids=missing)
            except (HubError, DomainError) as exc:
                db.rollback()
                return _service_refusal(exc)
            db.commit()
            return JSONResponse(dict(_whitelist(db, account), issued=len(issued)), status_code=201)

    return await asyncio.to_thread(work)


def _valid_passes(db: Session, account: User) -> list[Pass]:
    from hub.db import utcnow

    assert account.org_id is not None
    now = utcnow()
    rows = passes.list_passes(db, Scope.of(account), org_id=account.org_id, active_only=True)
    return [p for p in rows if p.expires_at > now]


def _whitelist(db: Session, account: User) -> dict[str, Any]:
    """The whitelist as the page shows it: masked names and mobiles, whether each has a valid pass."""
    from hub.core.masking import mask_mobile, mask_name

    assert account.org_id is not None
    covered = {p.employee_id for p in _valid_passes(db, account)}
    rows = enterprises.list_employees(db, Scope.of(account), org_id=account.org_id)
    return {
        "employees": [
            {"name": mask_name(e.name), "mobile": mask_mobile(e.mobile), "pass": e.id in covered}
            for e in rows
        ]
    }


@router.post("/employees/list")
async def list_employees(body: TokenIn, request: Request) -> JSONResponse:
    user = await _user(request, body.id_token)
    if isinstance(user, JSONResponse):
        return user
    with request.app.state.sessionmaker() as db:
        found = _account(db, ChannelName.ENTERPRISE, user, Role.ENTERPRISE_ADMIN)
        if found is None:
            return _not_allowed(db)
        listed = _whitelist(db, found[1])
        db.commit()
        return JSONResponse(listed)
