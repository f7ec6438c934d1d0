"""The ID-card check against the hub: does this national ID hold a valid pass now? (for a person with no
pass at hand; the hub side is hub.services.id_card_check, `POST /officers/id-check`).

Unlike the pass check it cannot be done offline: the device holds no list of who has a pass, and must
not (docs/id-card-check.md). So it asks the hub, signed with the device key and naming the logged-in
officer; without a network it says so, and the pass check stays as it is. A number that fails the
national-ID checksum is refused here, before anything is sent. The typed number is not stored or logged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from checkpoint_app.errors import CheckpointError, HubUnavailableError, InputError
from checkpoint_app.hubclient import HubClient, HubHTTPError
from crypto.identity import is_valid_national_id, normalize_national_id
from crypto.keys import KeyPair


class IdCardNeedsNetworkError(CheckpointError):
    """The hub could not be reached: the ID-card check needs it."""


@dataclass(frozen=True)
class IdCardAnswer:
    ok: bool
    status: str
    message: str  # zh-TW, from the hub
    holder_masked: str | None
    national_id_masked: str | None
    organisation: str | None
    expires_at: int | None


def normalise(typed: str) -> str:
    # Officers type on phone keyboards: case, spaces and dashes are forgiven, nothing else.
    return "".join(ch for ch in normalize_national_id(typed) if ch not in " -")


def lookup(client: HubClient, key: KeyPair, device_id: str, officer_id: str, typed: str) -> IdCardAnswer:
    national_id = normalise(typed)
    if not is_valid_national_id(national_id, allow_old_resident=True):
        raise InputError("idcard_invalid")
    body = json.dumps(
        {
            "device_id": device_id,
            "officer_id": officer_id,
            "national_id": national_id,
            "sent_at": time.time(),
        },
        separators=(",", ":"),
    ).encode()
    try:
        answer = client.id_check(device_id, body, key.sign(body))
    except HubUnavailableError as exc:
        raise IdCardNeedsNetworkError("idcard_needs_network") from exc
    except HubHTTPError as exc:
        refusal = _refusal(exc.status_code)
        if refusal is None:
            raise
        raise refusal from exc
    return _answer(answer)


def _refusal(status: int) -> CheckpointError | None:
    """The hub's refusals of a check that the officer can act on, each in its own words."""
    match status:
        case 401:
            return CheckpointError("idcard_device_refused")
        case 403:
            return CheckpointError("idcard_not_officer")
        case 429:
            return CheckpointError("idcard_throttled")
    return None


def _answer(doc: dict[str, Any]) -> IdCardAnswer:
    if not isinstance(doc.get("ok"), bool) or not isinstance(doc.get("message"), str):
        raise CheckpointError("hub_bad_answer")

    def text(name: str) -> str | None:
        value = doc.get(name)
        return value if isinstance(value, str) else None

    expires = doc.get("expires_at")
    return IdCardAnswer(
        ok=doc["ok"],
        status=str(doc.get("status", "")),
        message=doc["message"],
        holder_masked=text("holder_masked"),
        national_id_masked=text("national_id_masked"),
        organisation=text("organisation"),
        expires_at=expires if isinstance(expires, int) else None,
    )
