"""Employee passes: issue (signed TP1), list, download as PNG or printable PDF, revoke."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from crypto.passes import pass_qr_png
from hub.api.deps import ClientIp, CurrentUser
from hub.api.routes.enterprises import enterprise_for
from hub.core.fields import Moment, PlainText, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.models.passes import Pass
from hub.services import audit, enterprises, passes
from hub.services.access import has_permission, is_hub_admin

# Passes in one enterprise sheet (a request): rendering costs ~15 ms a pass (QR and vector drawing, one
# core, measured 2026-11-25), so 250 stay near 4 s with room for a busy server; within the document
# module's own cap (hub.documents.pass_sheet.MAX_PASSES).
SHEET_PART_PASSES = 250

router = APIRouter(tags=["passes"])

PassKind = Literal["employee", "vehicle"]


class PassRequest(BaseModel):
    kind: PassKind = "employee"
    not_before: Moment | None = None
    expires_at: Moment | None = None


class BatchPassRequest(PassRequest):
    employee_ids: list[RowId] = Field(min_length=1, max_length=500)


class PassOut(BaseModel):
    pass_id: str
    org_id: int
    employee_id: int | None
    holder_name_masked: str
    holder_mobile_masked: str
    masked_national_id: str
    kind: str
    issuer_kid: str
    serial: int
    issued_at: dt.datetime
    not_before: dt.datetime
    expires_at: dt.datetime
    revoked: bool
    revoked_at: dt.datetime | None
    text: str | None = None  # the "TP1:..." QR content; only when one pass is fetched

    @classmethod
    def of(cls, p: Pass, *, with_text: bool = False) -> PassOut:
        return cls(
            pass_id=p.pass_id,
            org_id=p.org_id,
            employee_id=p.employee_id,
            holder_name_masked=mask_name(p.holder_name),
            holder_mobile_masked=mask_mobile(p.holder_mobile),
            masked_national_id=p.masked_national_id,
            kind=p.kind,
            issuer_kid=p.issuer_kid,
            serial=p.serial,
            issued_at=p.issued_at,
            not_before=p.not_before,
            expires_at=p.expires_at,
            revoked=p.revoked_at is not None,
            revoked_at=p.revoked_at,
            text=p.text if with_text else None,
        )


class RevokeRequest(BaseModel):
    reason: PlainText | None = Field(default=None, max_length=200)


def _read_pass(db: SessionDep, user: User, pass_id: str, ip: str | None, form: str) -> Pass:
    """`_readable_pass`, and the read goes to the audit log (a pass carries its holder's name)."""
    record = _readable_pass(db, user, pass_id)
    audit.record(db, "pass.read", actor=user, target=f"pass:{record.pass_id}", client_ip=ip, form=form)
    db.commit()
    return record


def _readable_pass(db: SessionDep, user: User, pass_id: str) -> Pass:
    """A pass its holder, its enterprise's admin, or a hub admin with a pass permission may see."""
    if len(pass_id) != 32:
        raise HubError(404, "not_found", "pass not found")
    record = passes.get_pass(db, pass_id)
    role = Role(user.role)
    if role is Role.EMPLOYEE and user.employee_id is not None and record.employee_id == user.employee_id:
        return record
    if role is Role.ENTERPRISE_ADMIN and user.org_id == record.org_id:
        return record
    hub_reader = (Permission.ENTERPRISES_MANAGE, Permission.PASSES_REVOKE, Permission.QUERY_PASSES)
    if is_hub_admin(user) and any(has_permission(user, p) for p in hub_reader):
        return record
    raise HubError(404, "not_found", "pass not found")  # 404, not 403: do not confirm it exists


@router.post("/enterprises/{org_id}/employees/{employee_id}/passes", response_model=PassOut, status_code=201)
def issue_pass(
    org_id: RowId, employee_id: RowId, body: PassRequest, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> PassOut:
    """Issue a signed pass to a whitelisted employee (default validity: HUB_PASS_DEFAULT_VALID_DAYS)."""
    org = enterprise_for(db, user, org_id)
    employee = enterprises.get_employee(db, org, employee_id)
    record = passes.issue_pass(
        db,
        org,
        employee,
        user,
        kind=body.kind,
        not_before=body.not_before,
        expires_at=body.expires_at,
        client_ip=ip,
    )
    db.commit()
    return PassOut.of(record, with_text=True)


@router.post("/enterprises/{org_id}/passes", response_model=list[PassOut], status_code=201)
def issue_passes(
    org_id: RowId, body: BatchPassRequest, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> list[PassOut]:
    """Issue passes to several whitelisted employees at once: all of them or none."""
    org = enterprise_for(db, user, org_id)
    records = [
        passes.issue_pass(
            db,
            org,
            enterprises.get_employee(db, org, eid),
            user,
            kind=body.kind,
            not_before=body.not_before,
            expires_at=body.expires_at,
            client_ip=ip,
        )
        for eid in dict.fromkeys(body.employee_ids)
    ]
    db.commit()
    return [PassOut.of(r) for r in records]


@router.get("/enterprises/{org_id}/passes", response_model=list[PassOut])
def list_passes(
    org_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    active_only: Annotated[bool, Query()] = False,
) -> list[PassOut]:
    enterprise_for(db, user, org_id)
    query = select(Pass).where(Pass.org_id == org_id).order_by(Pass.id)
    if active_only:
        query = query.where(Pass.revoked_at.is_(None))
    rows = [PassOut.of(p) for p in db.scalars(query)]
    audit.record(
        db, "query.enterprise_passes", actor=user, target=f"org:{org_id}", client_ip=ip, results=len(rows)
    )
    db.commit()
    return rows


@router.get("/me/passes", response_model=list[PassOut])
def my_passes(user: CurrentUser, db: SessionDep, ip: ClientIp) -> list[PassOut]:
    """An employee's own passes (the seed's 下載 / 出示 / 列印 通行碼)."""
    if Role(user.role) is not Role.EMPLOYEE or user.employee_id is None:
        raise HubError(403, "forbidden", "only employees hold passes")
    rows = [
        PassOut.of(p, with_text=True)
        for p in db.scalars(select(Pass).where(Pass.employee_id == user.employee_id).order_by(Pass.id))
    ]
    audit.record(db, "pass.read", actor=user, client_ip=ip, form="own", results=len(rows))
    db.commit()
    return rows


@router.get("/passes/{pass_id}", response_model=PassOut)
def get_pass(pass_id: str, user: CurrentUser, db: SessionDep, ip: ClientIp) -> PassOut:
    return PassOut.of(_read_pass(db, user, pass_id, ip, "json"), with_text=True)


@router.get(
    "/passes/{pass_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def pass_png(
    pass_id: str,
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    box_size: Annotated[int, Query(ge=2, le=20)] = 8,
) -> Response:
    record = _read_pass(db, user, pass_id, ip, "png")
    return Response(
        pass_qr_png(record.text, box_size=box_size),
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="pass-{record.pass_id[:8]}.png"'},
    )


@router.get(
    "/passes/{pass_id}/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def pass_pdf(pass_id: str, user: CurrentUser, db: SessionDep, ip: ClientIp) -> Response:
    """A printable A4 sheet with the pass (name masked, CJK rendered)."""
    from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet

    record = _read_pass(db, user, pass_id, ip, "pdf")
    pdf = render_pass_sheet([PassSheetItem.from_pass(record.text)], per_page=1)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="pass-{record.pass_id[:8]}.pdf"'},
    )


@router.get(
    "/enterprises/{org_id}/passes/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def passes_pdf(
    org_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    part: Annotated[
        int | None, Query(ge=1, description=f"which {SHEET_PART_PASSES} passes, in issue order")
    ] = None,
) -> Response:
    """All the enterprise's valid passes on A4 sheets, four a page, for printing; more than
    SHEET_PART_PASSES come in parts (`?part=1`, `?part=2`, ...)."""
    from hub.db import utcnow
    from hub.documents.pass_sheet import PassSheetItem, render_pass_sheet

    enterprise_for(db, user, org_id)
    valid = (Pass.org_id == org_id, Pass.revoked_at.is_(None), Pass.expires_at > utcnow())
    total = db.scalar(select(func.count()).select_from(Pass).where(*valid)) or 0
    if not total:
        raise HubError(404, "not_found", "no valid passes to print")
    parts = -(-total // SHEET_PART_PASSES)
    if part is None and parts > 1:
        raise HubError(
            422,
            "too_many_passes",
            f"{total} valid passes; one sheet holds at most {SHEET_PART_PASSES}: download it in {parts} "
            f"parts, ?part=1 to ?part={parts} (passes in issue order)",
        )
    if part is not None and part > parts:
        raise HubError(404, "not_found", f"there are {parts} parts of {SHEET_PART_PASSES} passes")
    rows = list(
        db.scalars(
            select(Pass)
            .where(*valid)
            .order_by(Pass.id)
            .offset(((part or 1) - 1) * SHEET_PART_PASSES)
            .limit(SHEET_PART_PASSES)
        )
    )
    pdf = render_pass_sheet([PassSheetItem.from_pass(p.text) for p in rows], per_page=4)
    audit.record(
        db, "pass.read", actor=user, target=f"org:{org_id}", client_ip=ip, form="pdf", results=len(rows)
    )
    db.commit()
    suffix = f"-part{part}" if part is not None else ""
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="passes-{org_id}{suffix}.pdf"'},
    )


@router.post("/passes/{pass_id}/revoke", response_model=PassOut)
def revoke(pass_id: str, body: RevokeRequest, user: CurrentUser, db: SessionDep, ip: ClientIp) -> PassOut:
    """Revoke a pass: its serial is set in the issuer key's status list, which checkpoints fetch."""
    record = _readable_pass(db, user, pass_id)
    if not has_permission(user, Permission.PASSES_REVOKE):
        raise HubError(403, "forbidden", "needs permission passes.revoke")
    passes.revoke_pass(db, record, user, body.reason, ip)
    db.commit()
    return PassOut.of(record)
