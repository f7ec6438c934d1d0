"""Enterprises (the city's 企業流程一, 三): registration and the employee pass whitelist (its handlers are
every whitelist's, `hub.api.routes._whitelists`)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from hub.api.deps import ClientIp, ScopeDep
from hub.api.routes._whitelists import Names, add_routes
from hub.api.routes.auth import TokenOut
from hub.api.routing import APIRouter
from hub.core.fields import RowId
from hub.core.vocabulary import ReviewState
from hub.services import enterprise_scope, enterprises, identity
from hub.services.employees import EMPLOYEES
from hub.services.enterprises import ClaimOut, EnterpriseOut
from hub.services.identity import UserOut
from hub.web import SessionDep

router = APIRouter(tags=["enterprises"])


class RegisteredOut(TokenOut):
    enterprise: EnterpriseOut


@router.post(
    "/enterprises/register",
    response_model=RegisteredOut,
    status_code=201,
    responses={
        202: {"model": ClaimOut, "description": "the 統一編號 is taken: held for a hub admin's review"}
    },
)
def register(body: enterprises.EnterpriseRegistration, db: SessionDep, ip: ClientIp) -> Any:
    """Company name, 統一編號, admin name and mobile, and the SMS code sent to that mobile (purpose
    `enterprise_registration`). Creates the enterprise and logs its admin in; for a 統一編號 that already
    has an enterprise, the registration waits for a hub admin's review (202) and nobody is logged in."""
    outcome = enterprises.register(db, body, ip)
    if isinstance(outcome, enterprises.HeldForReview):
        return JSONResponse(ClaimOut.of(outcome.claim).model_dump(mode="json"), status_code=202)
    token, expires_at = identity.issue_token(db, outcome.admin, ip)
    return RegisteredOut(
        token=token,
        expires_at=expires_at,
        must_change_password=False,
        user=UserOut.of(outcome.admin),
        enterprise=EnterpriseOut.of(outcome.org),
    )


@router.get("/enterprise-registrations", response_model=list[ClaimOut])
def list_registration_claims(
    scope: ScopeDep, db: SessionDep, state: ReviewState | None = ReviewState.PENDING
) -> list[ClaimOut]:
    """Registrations held for review (hub admins with enterprises.manage); `state` empty for all."""
    return [ClaimOut.of(c) for c in enterprises.list_claims(db, scope, state=state)]


@router.post("/enterprise-registrations/{claim_id}/approve", response_model=ClaimOut)
def approve_registration_claim(claim_id: RowId, scope: ScopeDep, db: SessionDep) -> ClaimOut:
    """The claimant becomes another admin of the enterprise (logging in with an SMS code)."""
    return ClaimOut.of(enterprises.decide_claim(db, scope, claim_id=claim_id, approve=True))


@router.post("/enterprise-registrations/{claim_id}/refuse", response_model=ClaimOut)
def refuse_registration_claim(claim_id: RowId, scope: ScopeDep, db: SessionDep) -> ClaimOut:
    """Nothing changes for the enterprise; the claim is closed."""
    return ClaimOut.of(enterprises.decide_claim(db, scope, claim_id=claim_id, approve=False))


@router.get("/enterprises", response_model=list[EnterpriseOut])
def list_enterprises(scope: ScopeDep, db: SessionDep) -> list[EnterpriseOut]:
    """Hub admins with enterprises.manage see all; an enterprise admin sees their own."""
    return [EnterpriseOut.of(o) for o in enterprises.list_enterprises(db, scope)]


@router.get("/enterprises/{org_id}", response_model=EnterpriseOut)
def get_enterprise(org_id: RowId, scope: ScopeDep, db: SessionDep) -> EnterpriseOut:
    return EnterpriseOut.of(enterprise_scope.enterprise_in_scope(db, scope, org_id))


add_routes(
    router,
    EMPLOYEES,
    Names(
        base="enterprises",
        org="org_id",
        entry="employee_id",
        docs={
            "add_employee": "Put an employee on the pass whitelist (name, mobile, national ID).",
            "update_employee": "Correct an entry. A new mobile moves the employee's login to that number "
            "and ends the old\n    number's sessions.",
            "delete_employee": "Remove from the whitelist: the employee's valid passes are revoked and "
            "their sessions end.",
            "import_employees": "Batch .xlsx: columns 姓名 / 手機 / 身分證. Any bad row refuses the whole "
            "file (422, per-row report).",
        },
    ),
)
