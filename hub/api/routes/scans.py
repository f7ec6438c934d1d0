"""`POST /scans/batches`: signed scan uploads from checkpoint devices.

The body is read raw because the device signs the exact bytes; it is parsed by hub.services.devices.scan_batch
(not a pydantic model: one bad event must not sink the others). The models below only describe the
body and answer in the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel, Field

from hub.api.deps import SettingsDep
from hub.api.routing import APIRouter
from hub.services.devices.ingestion import ingest_batch
from hub.services.errors import TooLarge
from hub.web import SessionDep

router = APIRouter(tags=["checkpoints"])


class ScanEventDoc(BaseModel):
    event_id: str = Field(description="UUID made at scan time")
    seq: int = Field(ge=0, description="per-device sequence number, never reset")
    scanned_at: float = Field(description="device wall clock, epoch seconds")
    hlc: str = Field(max_length=64, description="hybrid logical clock")
    ok: bool
    reason: str = Field(max_length=32, description="crypto.verify.Reason value")
    pass_id: str | None = Field(default=None, description="32 hex digits")
    officer_id: str | None = None
    issuer_kid: str | None = Field(default=None, description="16 hex digits")
    serial: int | None = None
    trust_age_s: int | None = None
    stale: bool = False


class QueueDoc(BaseModel):
    waiting: int = Field(ge=0, description="events still queued behind this batch (parked ones not counted)")
    oldest_age_s: int | None = Field(default=None, ge=0, description="oldest's age at sent_at; null iff 0")


class ScanBatchDoc(BaseModel):
    device_id: str
    batch_id: str = Field(description="UUID, single use")
    sent_at: float
    events: list[ScanEventDoc] = Field(max_length=1000, description="may be empty: a status report")
    # docs/checkpoint-sync.md, "Device report": optional, so older apps' batches are still taken.
    app_version: str | None = Field(default=None, max_length=32)
    queue: QueueDoc | None = None


class EventResultDoc(BaseModel):
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    error: str | None = None


class BatchAnswerDoc(BaseModel):
    server_time: int
    results: list[EventResultDoc]


def _request_body_doc() -> dict[str, object]:
    # Inline the event schema: these models are not otherwise registered in the OpenAPI components.
    schema = ScanBatchDoc.model_json_schema()
    schema.pop("$defs", None)
    schema["properties"]["events"]["items"] = ScanEventDoc.model_json_schema()
    schema["properties"]["queue"] = {"anyOf": [QueueDoc.model_json_schema(), {"type": "null"}]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def raw_body(request: Request) -> bytes:
    """The exact bytes the device signed, refused past the hub's upload limit even without a length."""
    limit: int = request.app.state.settings.max_upload_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(reason="too_large", detail=f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/scans/batches",
    response_model=BatchAnswerDoc,
    openapi_extra=_request_body_doc(),
    responses={
        401: {"description": "unknown device or bad signature"},
        403: {"description": "revoked device"},
        409: {"description": "batch_id already received"},
        413: {"description": "too many events or too large a body"},
        422: {"description": "malformed body"},
    },
)
def post_batch(
    db: SessionDep,
    body: Annotated[bytes, Depends(raw_body)],
    settings: SettingsDep,
    x_device_id: Annotated[str | None, Header()] = None,
    x_device_signature: Annotated[str | None, Header()] = None,
) -> Response:
    """Store a device-signed batch; every event is answered accepted / duplicate / rejected."""
    outcome = ingest_batch(
        db,
        header_device_id=x_device_id,
        signature_b64=x_device_signature,
        body=body,
        max_events=settings.max_events_per_batch,
        retention_days=settings.retention_days,
    )
    answer = {"server_time": outcome.server_time, "results": outcome.results}
    return Response(json.dumps(answer, separators=(",", ":")), media_type="application/json")
