"""What checkpoints fetch to verify offline: the root-signed trust bundle and per-key status lists.

Both carry an ETag (bundle: its issued_at; status: its counter) so that an unchanged document costs a
304 with no body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from hub.db import SessionDep
from hub.services import trust

router = APIRouter(prefix="/trust", tags=["trust"])

COSE = "application/cose"


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get("/bundle", response_class=Response, responses={200: {"content": {COSE: {}}}, 304: {}})
def get_bundle(db: SessionDep, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The trust bundle (COSE_Sign1 by the root key): issuer keys, their states and status counters."""
    body, issued_at = trust.trust_bundle(db)
    etag = f'"{issued_at}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=COSE, headers=headers)


@router.get("/status/{kid}", response_class=Response, responses={200: {"content": {COSE: {}}}, 304: {}})
def get_status(
    kid: str,
    db: SessionDep,
    since: Annotated[int | None, Query(ge=0, le=2**31)] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The status list of issuer key `kid` (signed by it); with `?since=N`, a signed delta from counter N
    (a full list if N is not a counter the hub has had). Header `X-Status-Kind: full|delta`."""
    trust.known_kid(db, kid)
    etag = f'"{trust.status_counter(db, kid)}"'
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    document = trust.status_document(db, kid, since)
    return Response(
        document.body,
        media_type=COSE,
        headers={
            "ETag": f'"{document.counter}"',
            "X-Status-Kind": document.kind,
            "Cache-Control": "no-cache",
        },
    )
