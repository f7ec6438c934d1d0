"""Registrations waiting for review: an enterprise registered again under a 統一編號 already taken
(`hub.services.enterprises.list_claims` / `decide_claim`, hub admins with enterprises.manage)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from hub.console.web import PREFIX, Form, UserPage, field_text, shows_refusals
from hub.services import enterprises

router = APIRouter()


@router.get("/registrations", response_class=HTMLResponse)
def registrations(page: UserPage) -> Response:
    claims = enterprises.list_claims(page.db, page.scope)  # NotAllowed (403) without the permission
    return page.render("registrations.html", claims=[enterprises.ClaimOut.of(c) for c in claims])


@router.post("/registrations/{claim_id}", response_class=HTMLResponse)
@shows_refusals(registrations)
def decide(claim_id: int, form: Form, page: UserPage) -> Response:
    approve = field_text(form, "decision", 10) == "approve"
    enterprises.decide_claim(page.db, page.scope, claim_id=claim_id, approve=approve)
    return page.redirect(f"{PREFIX}/registrations", done="claim_decided")
