"""What checkpoints fetch to verify offline: the root-signed trust bundle and per-key status lists.

Both carry an ETag (bundle: its issued_at; status: its counter) so that an unchanged document costs a
304 with no body. For a hub whose root key is offline (hub.services.trust) a super admin also fetches
the bundle request to sign offline and uploads the signed bundle here; /trust/health counts down the
served bundle's validity for monitoring. /trust/export packs the bundle and every status list into the
one file `checkpass pass verify --bundle` reads, for checking a pass offline with the CLI.
/trust/audit-log publishes the audit log's signed tree heads (hub.services.transparency_log).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hub.api.deps import ClientIp, SuperAdmin
from hub.api.routing import APIRouter
from hub.services import transparency_log, trust, trust_export
from hub.web import SessionDep

router = APIRouter(prefix="/trust", tags=["trust"])

COSE = "application/cose"
CBOR = "application/cbor"


async def _raw_body(request: Request) -> bytes:
    # The app's size limit has already refused an oversize upload; read the rest as sent.
    return await request.body()


class BundleImportOut(BaseModel):
    imported: bool
    issued_at: int
    valid_until: int
    active_kid: str
    activated_kid: str | None


class TrustHealthOut(BaseModel):
    root: str
    state: str
    issued_at: int | None
    valid_until: int | None
    expires_in_s: int | None
    active_kid: str
    active_key_listed: bool
    pending_kid: str | None
    action: str | None


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get("/bundle", response_class=Response, responses={200: {"content": {COSE: {}}}, 304: {}})
def get_bundle(db: SessionDep, if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """The trust bundle (COSE_Sign1 by the root key): issuer keys, their states and status counters."""
    # Checkpoints poll this: like every plain route, one thread-pool trip (hub.api.routing.OneTripRoute).
    body, issued_at = trust.trust_bundle(db)
    etag = f'"{issued_at}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=COSE, headers=headers)


# Raw bytes on the wire: said so in the OpenAPI document, so clients and fuzzers send bytes, not JSON.
_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


@router.put(
    "/bundle",
    openapi_extra={"requestBody": {"required": True, "content": {COSE: _BINARY, CBOR: _BINARY}}},
)
def put_bundle(
    user: SuperAdmin, db: SessionDep, ip: ClientIp, body: Annotated[bytes, Depends(_raw_body)]
) -> BundleImportOut:
    """Offline root only: serve this root-signed bundle (a bare COSE bundle, or the file written by
    `checkpass bundle sign`/`bundle export`). 422 bad_bundle / bundle_expired; 409 bundle_not_newer,
    bundle_lacks_active_key, bundle_counters_ahead, root_online."""
    result = trust.import_bundle(db, body, actor=user, client_ip=ip, via="api")
    return BundleImportOut(**result.__dict__)


@router.get("/bundle/request", response_class=Response, responses={200: {"content": {CBOR: {}}}})
def get_bundle_request(
    user: SuperAdmin, db: SessionDep, valid_days: Annotated[int | None, Query(ge=1, le=366)] = None
) -> Response:
    """Offline root only: the unsigned bundle content to sign with `checkpass bundle sign`."""
    return Response(
        trust.bundle_request(db, valid_days),
        media_type=CBOR,
        headers={"Content-Disposition": 'attachment; filename="bundle-request.cbor"'},
    )


@router.get("/export", response_class=Response, responses={200: {"content": {CBOR: {}}}})
def get_export(db: SessionDep) -> Response:
    """Everything `checkpass pass verify --bundle FILE` needs to check a pass offline: the served bundle,
    the status list of each issuer key and the root public key, in one CBOR file (docs/operations.md).
    Pin the root key you trust with `--root-key`: the embedded copy only makes the file self-contained."""
    return Response(
        trust_export.trust_export(db),
        media_type=CBOR,
        headers={
            "Content-Disposition": f'attachment; filename="{trust_export.EXPORT_FILENAME}"',
            "Cache-Control": "no-cache",
        },
    )


@router.get("/health", response_model=TrustHealthOut, responses={503: {"model": TrustHealthOut}})
def get_health(db: SessionDep) -> JSONResponse:
    """How long the served bundle stays valid (`expires_in_s`) and what the operator should do.
    503 when devices cannot get usable trust data (missing, expired, or the signing key not listed)."""
    health = trust.trust_health(db)
    out = TrustHealthOut(**{k: v for k, v in health.__dict__.items()})
    return JSONResponse(out.model_dump(), status_code=200 if health.healthy else 503)


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


class AuditLogHeadOut(BaseModel):
    tree_size: int
    root_hash: str  # hex
    timestamp: int
    kid: str
    signature: str  # base64
    previous_size: int | None
    consistency: list[str]  # hex, RFC 9162 PROOF from previous_size


class AuditLogPurgeOut(BaseModel):
    tree_size: int
    timestamp: int
    kid: str
    signature: str
    frontier: list[str]


class AuditLogOut(BaseModel):
    public_key: str | None  # base64; None until the first head made the log key
    kid: str | None
    latest: AuditLogHeadOut | None
    purge: AuditLogPurgeOut | None
    heads: list[AuditLogHeadOut]


@router.get("/audit-log", response_model=AuditLogOut)
def get_audit_log(
    db: SessionDep,
    since: Annotated[int | None, Query(ge=0, le=2**31 - 1, description="heads of this size or more")] = None,
) -> dict[str, Any]:
    """The audit log's signed tree heads (docs/audit-log.md), published beside the trust documents for
    anyone to keep: its public key, its signed purge record, the latest head and, with `since`, a page of
    heads from that size on (oldest first), each with its consistency proof from the head before it. An
    auditor who keeps them can later show the hub a head it cannot explain away."""
    return transparency_log.published(db, since=since)
