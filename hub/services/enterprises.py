"""Enterprises: registration by their admin (mobile + SMS code) and its review. The employee whitelist is
`hub.services.employees`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.fields import Mobile, OrgName, PersonName, Ubn
from hub.core.masking import mask_mobile, mask_name
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind, RegistrationClaim, ReviewState
from hub.services import audit, otp
from hub.services.errors import Conflict, NotAllowed, NotFound
from hub.services.scope import Scope


class EnterpriseRegistrationForm(BaseModel):
    """The registration form's fields: LINE's form has them checked before it asks for the SMS code."""

    company_name: OrgName
    ubn: Ubn
    admin_name: PersonName
    admin_mobile: Mobile


class EnterpriseRegistration(EnterpriseRegistrationForm):
    code: str


# What is shown of an enterprise: REST's answers, the console's list and page. Its name, 統一編號 and
# address are a company's, on public registers: nothing to mask.
class EnterpriseOut(BaseModel):
    id: int
    name: str
    ubn: str | None
    address: str | None

    @classmethod
    def of(cls, org: Organisation) -> EnterpriseOut:
        return cls(id=org.id, name=org.name, ubn=org.ubn, address=org.address)


class ClaimOut(BaseModel):
    """A registration for a 統一編號 that already has an enterprise, held for a hub admin's review."""

    id: int
    org_id: int
    ubn: str
    company_name: str
    admin_name_masked: str
    admin_mobile_masked: str
    state: ReviewState
    created_at: dt.datetime
    decided_at: dt.datetime | None

    # The claimant's name and mobile masked, whoever reviews: the review needs neither in clear.
    @classmethod
    def of(cls, claim: RegistrationClaim) -> ClaimOut:
        return cls(
            id=claim.id,
            org_id=claim.org_id,
            ubn=claim.ubn,
            company_name=claim.company_name,
            admin_name_masked=mask_name(claim.admin_name),
            admin_mobile_masked=mask_mobile(claim.admin_mobile),
            state=ReviewState(claim.state),
            created_at=claim.created_at,
            decided_at=claim.decided_at,
        )


def list_enterprises(db: Session, scope: Scope) -> list[Organisation]:
    """Hub admins with enterprises.manage see all; an enterprise admin their own; anyone else nothing."""
    query = (
        select(Organisation).where(Organisation.kind == OrgKind.ENTERPRISE.value).order_by(Organisation.id)
    )
    if scope.hub_wide:
        scope.require(Permission.ENTERPRISES_MANAGE)
    else:
        scope.require_role(Role.ENTERPRISE_ADMIN)
        query = query.where(Organisation.id == scope.own_org())
    return list(db.scalars(query))


@dataclass(frozen=True)
class Registered:
    org: Organisation
    admin: User
    repeat: bool = False  # the answer to an earlier request with the same code (nothing was done now)


@dataclass(frozen=True)
class HeldForReview:
    claim: RegistrationClaim


def register(db: Session, data: EnterpriseRegistration, client_ip: str | None) -> Registered | HeldForReview:
    """The city's 企業流程一: company, 統一編號, admin name and mobile, confirmed by an SMS code.

    A 統一編號 that already has an enterprise is not registered again, nor refused in silence: the claim
    is held for a hub admin's review (`decide_claim`), and the enterprise's owner is untouched.

    A used code is refused (`code_used`); a front end that answers a repeat with the first answer asks
    `earlier_registration` then (REST does not: there the code would log in a second time)."""
    otp.verify_code(db, data.admin_mobile, otp.Purpose.ENTERPRISE_REGISTRATION, data.code)
    owner = db.scalars(
        select(Organisation).where(
            Organisation.kind == OrgKind.ENTERPRISE.value, Organisation.ubn == data.ubn
        )
    ).first()
    if owner is not None:
        claim = RegistrationClaim(
            org_id=owner.id,
            ubn=data.ubn,
            company_name=data.company_name,
            admin_name=data.admin_name,
            admin_mobile=data.admin_mobile,
            state=ReviewState.PENDING.value,
        )
        db.add(claim)
        db.flush()
        audit.record(
            db,
            "enterprise.registration_held",
            target=f"org:{owner.id}",
            client_ip=client_ip,
            claim_id=claim.id,
            ubn=data.ubn,
            mobile=mask_mobile(data.admin_mobile),
        )
        return HeldForReview(claim)
    org = Organisation(
        kind=OrgKind.ENTERPRISE.value,
        name=data.company_name,
        ubn=data.ubn,
        contact_name=data.admin_name,
        contact_phone=data.admin_mobile,
    )
    db.add(org)
    db.flush()
    admin = User(
        mobile=data.admin_mobile,
        name=data.admin_name,
        role=Role.ENTERPRISE_ADMIN.value,
        org_id=org.id,
        permissions=[],
    )
    db.add(admin)
    db.flush()
    audit.record(
        db,
        "enterprise.registered",
        actor=admin,
        target=f"org:{org.id}",
        client_ip=client_ip,
        ubn=data.ubn,
        mobile=mask_mobile(data.admin_mobile),
    )
    return Registered(org, admin)


def earlier_registration(db: Session, data: EnterpriseRegistration) -> Registered | HeldForReview | None:
    """After `register` refused a used code: what the request that used it did, if this is a repeat of
    it (the same code, mobile and 統一編號: a double tap). None otherwise."""
    used = otp.repeated_code(db, data.admin_mobile, otp.Purpose.ENTERPRISE_REGISTRATION, data.code)
    if used is None:
        return None
    claim = db.scalars(
        select(RegistrationClaim)
        .where(
            RegistrationClaim.ubn == data.ubn,
            RegistrationClaim.admin_mobile == data.admin_mobile,
            RegistrationClaim.created_at >= used.created_at,
        )
        .order_by(RegistrationClaim.id.desc())
    ).first()
    if claim is not None:
        return HeldForReview(claim)
    row = db.execute(
        select(Organisation, User)
        .join(User, User.org_id == Organisation.id)
        .where(
            Organisation.kind == OrgKind.ENTERPRISE.value,
            Organisation.ubn == data.ubn,
            User.mobile == data.admin_mobile,
            User.role == Role.ENTERPRISE_ADMIN.value,
        )
    ).first()
    return Registered(row[0], row[1], repeat=True) if row is not None else None


def list_claims(
    db: Session, scope: Scope, *, state: ReviewState | None = ReviewState.PENDING
) -> list[RegistrationClaim]:
    """Registrations held for review (hub admins with enterprises.manage), oldest first."""
    _reviewer(scope)
    query = select(RegistrationClaim).order_by(RegistrationClaim.id)
    if state is not None:
        query = query.where(RegistrationClaim.state == state.value)
    return list(db.scalars(query))


def decide_claim(db: Session, scope: Scope, *, claim_id: int, approve: bool) -> RegistrationClaim:
    """Approve (the claimant becomes another admin of the enterprise, logging in by SMS code) or refuse
    (nothing changes). A claim is decided once."""
    _reviewer(scope)
    claim = db.get(RegistrationClaim, claim_id)
    if claim is None:
        raise NotFound("registration")
    if claim.state != ReviewState.PENDING.value:
        raise Conflict(reason="already_decided", detail=f"this registration was already {claim.state}")
    claim.state = (ReviewState.APPROVED if approve else ReviewState.REFUSED).value
    claim.decided_at = utcnow()
    claim.decided_by = scope.user.id
    admin_id = None
    if approve:
        admin = db.scalars(
            select(User).where(
                User.mobile == claim.admin_mobile,
                User.role == Role.ENTERPRISE_ADMIN.value,
                User.org_id == claim.org_id,
            )
        ).first()
        if admin is None:
            admin = User(
                mobile=claim.admin_mobile,
                name=claim.admin_name,
                role=Role.ENTERPRISE_ADMIN.value,
                org_id=claim.org_id,
                permissions=[],
                created_by=scope.user.id,
            )
            db.add(admin)
            db.flush()
        admin_id = admin.id
    audit.record(
        db,
        f"enterprise.registration_{claim.state}",
        actor=scope.user,
        target=f"org:{claim.org_id}",
        client_ip=scope.client_ip,
        claim_id=claim.id,
        admin_user_id=admin_id,
    )
    return claim


def _reviewer(scope: Scope) -> None:
    if not scope.hub_wide:
        raise NotAllowed("only hub admins review registrations")
    scope.require(Permission.ENTERPRISES_MANAGE)
