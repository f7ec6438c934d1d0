"""「誰查看了我的資料」 in the console: an administrator's own list (hub.services.data_reads), under
「我的帳號」, and one read's inclusion proof from the transparency log as a download."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from hub.console.web import UserPage
from hub.services import data_reads

router = APIRouter()


@router.get("/account/data-reads", response_class=HTMLResponse)
def my_data_reads(page: UserPage) -> Response:
    assert page.user is not None
    reads = [r.shown(page.language) for r in data_reads.reads_of(page.db, page.user.mobile)]
    return page.render("data_reads.html", reads=reads)


@router.get("/account/data-reads/{event_id}/proof")
def proof_of_read(event_id: int, page: UserPage) -> Response:
    """The proof as a file to keep; `checkpass audit verify FILE --key audit-log.pub` checks it. An
    entry that is not one of this person's reads is not found (hub's refusal page)."""
    assert page.user is not None
    proof = data_reads.proof_of_read(page.db, page.user.mobile, event_id)
    return Response(
        json.dumps(proof, ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="read-{event_id}-proof.json"'},
    )
