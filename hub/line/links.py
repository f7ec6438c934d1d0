"""Short-lived signed URLs for what LINE must fetch itself (the QR image of a pass, a printable PDF):
LINE's servers and the user's phone cannot send the hub a bearer token, so the URL is the permission.

`GET /line/files/{kind}/{ident}?exp=...&sig=...`: the signature is a keyed BLAKE2b over kind, ident and
expiry with a key derived from the hub secret; a link lives `LINK_SECONDS`. A pass revoked or expired
since the link was made is not served (410). Nothing personal is in the URL (pass ids are random).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from hub.context import HubContext

LINK_SECONDS = 600
KINDS = ("qr", "preview", "pdf", "sheet", "posters")

router = APIRouter(prefix="/line/files", tags=["line"], include_in_schema=False)


def _key(context: HubContext) -> bytes:
    return hashlib.blake2b(b"checkpass/line-links", key=context.protector.otp_key, digest_size=32).digest()


def _signature(context: HubContext, kind: str, ident: str, exp: int) -> str:
    message = f"{kind}\0{ident}\0{exp}".encode()
    return hashlib.blake2b(message, key=_key(context), digest_size=16).hexdigest()


def signed_url(context: HubContext, kind: str, ident: str, *, now: float | None = None) -> str:
    assert kind in KINDS
    exp = int((now if now is not None else time.time()) + LINK_SECONDS)
    base = context.settings.base_url.rstrip("/")
    return f"{base}/line/files/{kind}/{ident}?exp={exp}&sig={_signature(context, kind, ident, exp)}"


def check(context: HubContext, kind: str, ident: str, exp: int, sig: str) -> bool:
    if kind not in KINDS or exp < time.time():
        return False
    return hmac.compare_digest(_signature(context, kind, ident, exp), sig)


@router.get("/{kind}/{ident}")
def signed_file(
    kind: str,
    ident: str,
    request: Request,
    exp: Annotated[int, Query(ge=0, le=2**40)],
    sig: Annotated[str, Query(min_length=32, max_length=32)],
) -> Response:
    context: HubContext = request.app.state.context
    if not check(context, kind, ident, exp, sig):
        return JSONResponse(
            {"error": "gone", "detail": "this link has expired or is not valid"}, status_code=410
        )
    from hub.line import files

    with request.app.state.sessionmaker() as db:
        return files.serve(db, request.app.state.line, kind, ident)
