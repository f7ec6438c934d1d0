"""Officer session: log in online (name + mobile, SMS code through the hub), then work offline.

The hub answers with a COSE_Sign1 credential signed by an issuer key. It is verified here against
the trust bundle's issuer keys, both at login and every time it is used, so a credential that
was tampered with on disk, or whose key was later marked compromised, stops working offline too.
"""

from __future__ import annotations

import re
from typing import Any

import cbor2

from checkpoint_app.errors import InputError, LoginError
from checkpoint_app.hubclient import HubClient, HubHTTPError, unb64
from checkpoint_app.models import OfficerSession
from checkpoint_app.store import Store
from checkpoint_app.verifier import Verifier
from crypto.cose import parse_sign1, verify_sign1
from crypto.errors import CryptoError
from crypto.trust import KeyState

_MOBILE = re.compile(r"^(09\d{8}|\+8869\d{8})$")
# The hub sends exactly 6 digits (hub/services/otp.py); a shorter or longer code cannot be right.
_CODE = re.compile(r"^\d{6}$")


def normalise_mobile(mobile: str) -> str:
    cleaned = re.sub(r"[\s\-()]", "", mobile)
    if not _MOBILE.match(cleaned):
        raise InputError("mobile_format")
    return cleaned


# What a code lives for when the hub does not say (its default, hub/core/config.py otp_ttl_seconds).
DEFAULT_CODE_LIFETIME_S = 300


def start(client: HubClient, device_id: str, name: str, mobile: str) -> int:
    """Ask the hub for an SMS code; returns how many seconds the code will be valid."""
    if not name.strip():
        raise InputError("name_required")
    with client:
        try:
            answer = client.login_start(device_id, name.strip(), normalise_mobile(mobile))
        except HubHTTPError as exc:
            raise _login_refusal(exc) from exc
    lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
    return lifetime if isinstance(lifetime, int) and lifetime > 0 else DEFAULT_CODE_LIFETIME_S


def _login_refusal(exc: HubHTTPError) -> LoginError:
    if exc.status_code in (403, 404):
        return LoginError("not_on_roster")
    if exc.status_code == 429:
        return LoginError("too_many_attempts")
    if exc.status_code == 422:
        return LoginError("login_input_refused")
    if exc.status_code in (400, 401, 410):
        return LoginError("wrong_code")
    return LoginError("login_hub_status", status=exc.status_code)


def verify_credential(credential: bytes, verifier: Verifier, device_id: str) -> OfficerSession:
    """Check signature, issuer key state and binding to this device; raise LoginError otherwise."""
    try:
        msg = parse_sign1(credential)
    except CryptoError as exc:
        raise LoginError("credential_damaged") from exc
    keys = verifier.issuer_keys(msg.kid)
    if not keys:
        raise LoginError("credential_unknown_key")
    try:
        claims: Any = cbor2.loads(msg.payload)
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise LoginError("credential_damaged") from exc
    if not isinstance(claims, dict) or claims.get("typ") != "officer":
        raise LoginError("credential_not_officer")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int) or not isinstance(exp, int):
        raise LoginError("credential_no_validity")
    good_key = False
    for key in keys:
        if key.state == KeyState.COMPROMISED:
            continue
        if key.state == KeyState.RETIRED and key.not_after is not None and nbf >= key.not_after:
            continue
        if verify_sign1(msg, key.public_key):
            good_key = True
            break
    if not good_key:
        raise LoginError("credential_bad_signature")
    if claims.get("device_id") != device_id:
        raise LoginError("credential_other_device")
    fields = ("officer_id", "station_id", "name_masked")
    if not all(isinstance(claims.get(f), str) for f in fields):
        raise LoginError("credential_incomplete")
    return OfficerSession(
        officer_id=claims["officer_id"],
        name_masked=claims["name_masked"],
        station_id=claims["station_id"],
        device_id=device_id,
        not_before=nbf,
        expires_at=exp,
    )


def finish(
    client: HubClient, store: Store, verifier: Verifier, device_id: str, mobile: str, code: str
) -> OfficerSession:
    code = code.strip()
    if not _CODE.match(code):
        raise InputError("sms_code_digits")
    with client:
        try:
            answer = client.login_verify(device_id, normalise_mobile(mobile), code)
        except HubHTTPError as exc:
            raise _login_refusal(exc) from exc
    try:
        credential = unb64(str(answer.get("credential", "")))
    except ValueError as exc:
        raise LoginError("credential_damaged_answer") from exc
    session = verify_credential(credential, verifier, device_id)
    store.save_officer(
        credential,
        session.officer_id,
        session.name_masked,
        session.station_id,
        device_id,
        session.not_before,
        session.expires_at,
    )
    return session


def current(store: Store, verifier: Verifier, now: float) -> OfficerSession | None:
    row = store.officer_row()
    device = store.device()
    if row is None or device is None:
        return None
    try:
        session = verify_credential(row["credential"], verifier, device.device_id)
    except LoginError:
        return None
    return session if session.valid_at(now) else None
