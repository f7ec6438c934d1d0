"""Registrations waiting for review: an enterprise registered again under a 統一編號 already taken
(`hub.services.enterprises.list_claims` / `decide_claim`, hub admins with enterprises.manage)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from crypto.identity import mask_mobile, mask_name
from hub.console.web import PREFIX, Form, UserPage, field_text, shows_refusals
from hub.services import enterprises

router = APIRouter()


@router.get("/registrations", response_class=HTMLResponse)
def registrations(page: UserPage) -> Response:
    claims = enterprises.list_claims(page.db, page.scope)  # NotAllowed (403) without the permission
    rows = [
        {
            "id": c.id,
            "company": c.company_name,
            "ubn": c.ubn,
            "admin": mask_name(c.admin_name),
            "mobile": mask_mobile(c.admin_mobile),
            "at": c.created_at,
        }
        for c in claims
    ]
    return page.render("registrations.html", claims=rows)


@router.post("/registrations/{claim_id}", response_class=HTMLResponse)
@shows_refusals(registrations)
def decide(claim_id: int, form: Form, page: UserPage) -> Response:
    approve = field_text(form, "decision", 10) == "approve"
    enterprises.decide_claim(page.db, page.scope, claim_id=claim_id, approve=approve)
    return page.redirect(f"{PREFIX}/registrations", done="claim_decided")
