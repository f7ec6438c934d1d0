"""Registrations waiting for review: an enterprise registered again under a 統一編號 already taken
(`hub.services.enterprises.list_claims` / `decide_claim`, hub admins with enterprises.manage)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from crypto.identity import mask_mobile, mask_name
from hub.console.web import PREFIX, Form, Refusal, UserPage, field_text, refusal_status, refusal_text
from hub.services import enterprises
from hub.services.unit_of_work import finish

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
def decide(claim_id: int, form: Form, page: UserPage) -> Response:
    approve = field_text(form, "decision", 10) == "approve"
    try:
        enterprises.decide_claim(page.db, page.scope, claim_id=claim_id, approve=approve)
    except Refusal as exc:
        finish(page.db, exc)
        status = refusal_status(exc)
        return page.render(
            "error.html", status_code=status, message=refusal_text(page, exc.reason, exc.detail)
        )
    return page.redirect(f"{PREFIX}/registrations", done="claim_decided")
