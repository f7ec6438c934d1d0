"""Employee passes: issue (signed TP1), list, download as PNG or printable PDF, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from crypto.passes import pass_qr_png
from hub.api.deps import ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import RowId
from hub.responses import file_response
from hub.services import downloads, passes
from hub.services.passes import SHEET_PART_PASSES, BatchPassRequest, PassOut, PassRequest, RevokeRequest
from hub.web import SessionDep

router = APIRouter(tags=["passes"])


@router.post("/enterprises/{org_id}/employees/{employee_id}/passes", response_model=PassOut, status_code=201)
def issue_pass(
    org_id: RowId, employee_id: RowId, body: PassRequest, scope: ScopeDep, db: SessionDep
) -> PassOut:
    """Issue a signed pass to a whitelisted employee (default validity: HUB_PASS_DEFAULT_VALID_DAYS). It
    supersedes (revokes) the employee's earlier valid pass of the same kind unless `keep_previous`."""
    record = passes.issue_pass(
        db,
        scope,
        org_id=org_id,
        employee_id=employee_id,
        kind=body.kind,
        not_before=body.not_before,
        expires_at=body.expires_at,
        keep_previous=body.keep_previous,
    )
    return PassOut.of(record, text=record.text)


@router.post("/enterprises/{org_id}/passes", response_model=list[PassOut], status_code=201)
def issue_passes(org_id: RowId, body: BatchPassRequest, scope: ScopeDep, db: SessionDep) -> list[PassOut]:
    """Issue passes to several whitelisted employees at once: all of them or none."""
    records = passes.issue_passes(
        db,
        scope,
        org_id=org_id,
        employee_ids=body.employee_ids,
        kind=body.kind,
        not_before=body.not_before,
        expires_at=body.expires_at,
        keep_previous=body.keep_previous,
    )
    # The issuer hands these out: the text comes with them (as for one pass).
    return [PassOut.of(r, text=r.text) for r in records]


@router.get("/enterprises/{org_id}/passes", response_model=list[PassOut])
def list_passes(
    org_id: RowId, scope: ScopeDep, db: SessionDep, active_only: Annotated[bool, Query()] = False
) -> list[PassOut]:
    return [PassOut.of(p) for p in passes.list_passes(db, scope, org_id=org_id, active_only=active_only)]


@router.get("/me/passes", response_model=list[PassOut])
def my_passes(scope: ScopeDep, db: SessionDep) -> list[PassOut]:
    """An employee's own passes (the city's 下載 / 出示 / 列印 通行碼)."""
    return [PassOut.of(p, text=p.text) for p in passes.my_passes(db, scope)]


@router.get("/passes/{pass_id}", response_model=PassOut)
def get_pass(pass_id: str, scope: ScopeDep, db: SessionDep) -> PassOut:
    """A pass's register entry; its `text` only for its holder and its issuers (audited)."""
    read = passes.read_pass(db, scope, pass_id=pass_id, form="json")
    return PassOut.of(read.record, text=read.text)


@router.get(
    "/passes/{pass_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def pass_png(
    pass_id: str, scope: ScopeDep, db: SessionDep, box_size: Annotated[int, Query(ge=2, le=20)] = 8
) -> Response:
    record = passes.pass_text(db, scope, pass_id=pass_id, form="png")
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
def pass_pdf(pass_id: str, scope: ScopeDep, db: SessionDep) -> Response:
    """A printable A4 sheet with the pass (name masked, CJK rendered)."""
    return file_response(downloads.pass_sheet(db, scope, pass_id=pass_id))


@router.get(
    "/enterprises/{org_id}/passes/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def passes_pdf(
    org_id: RowId,
    scope: ScopeDep,
    db: SessionDep,
    part: Annotated[
        int | None, Query(ge=1, description=f"which {SHEET_PART_PASSES} passes, in issue order")
    ] = None,
) -> Response:
    """All the enterprise's valid passes on A4 sheets, four a page, for printing; more than
    SHEET_PART_PASSES come in parts (`?part=1`, `?part=2`, ...)."""
    return file_response(downloads.passes_sheet(db, scope, org_id=org_id, part=part))


@router.post("/passes/{pass_id}/revoke", response_model=PassOut)
def revoke(pass_id: str, body: RevokeRequest, scope: ScopeDep, db: SessionDep) -> PassOut:
    """Revoke a pass: its serial is set in the issuer key's status list, which checkpoints fetch."""
    return PassOut.of(passes.revoke_pass(db, scope, pass_id=pass_id, reason=body.reason))
