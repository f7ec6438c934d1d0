"""Officer login on a checkpoint device and the offline credential it earns.

An officer gives name and mobile on the device; the hub matches them against the duty-officer
whitelist (of the device's station, when the device belongs to one) and sends an SMS code. With the
code confirmed, the hub signs a credential (COSE_Sign1 by the active issuer key, payload as in
docs/CONTRACTS.md) that the device checks offline against its trust bundle until the shift ends.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import cbor2
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.cose import sign1
from crypto.identity import mask_name
from hub.db import utcnow
from hub.models.devices import Device, OfficerDeviceLogin
from hub.models.rosters import Officer
from hub.services import audit
from hub.services.errors import Invalid, NotAllowed, NotAuthenticated
from hub.services.keys import active_issuer
from hub.services.otp import request_code, verify_code
from hub.services.rosters import find_duty_officer

# Its own purpose, so that a code sent for the LINE officer login cannot mint an offline credential.
OTP_PURPOSE = "officer_device_login"
CREDENTIAL_TYPE = "officer"


@dataclass(frozen=True)
class OfficerCredential:
    credential: bytes  # COSE_Sign1
    officer_id: str
    station_id: str
    name_masked: str
    not_before: int
    expires_at: int

    @property
    def credential_b64(self) -> str:
        return base64.b64encode(self.credential).decode("ascii")


def _live_device(db: Session, device_id: str) -> Device:
    device = db.get(Device, device_id)
    if device is None:
        raise NotAuthenticated(reason="unknown_device", detail="no enrolled device with this id")
    if device.revoked_at is not None:
        raise NotAllowed(reason="device_revoked", detail="this device has been revoked")
    return device


def start_officer_login(
    db: Session, *, device_id: str, name: str, mobile_e164: str, lifetime_s: int, client_ip: str | None
) -> None:
    """Match the officer against the whitelist and send an SMS code. Commits (through the OTP service).

    403 when the name and mobile are not a duty officer (of the device's station); nothing is sent then.
    """
    device = _live_device(db, device_id)
    officer = find_duty_officer(db, mobile_e164, name)
    if officer is None or (device.station_id is not None and officer.station_id != device.station_id):
        raise NotAllowed(
            reason="not_on_whitelist", detail="name and mobile do not match a duty officer of this station"
        )
    now = utcnow()
    # A new start replaces any earlier pending login of this number on this device.
    db.execute(
        update(OfficerDeviceLogin)
        .where(
            OfficerDeviceLogin.device_id == device.id,
            OfficerDeviceLogin.mobile == mobile_e164,
            OfficerDeviceLogin.verified_at.is_(None),
        )
        .values(mobile=None)
    )
    db.add(
        OfficerDeviceLogin(
            device_id=device.id,
            officer_id=officer.id,
            mobile=mobile_e164,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=lifetime_s),
        )
    )
    db.flush()
    request_code(db, mobile_e164, OTP_PURPOSE, client_ip)  # commits the pending login with the code


def issue_credential(db: Session, officer: Officer, device_id: str, shift: dt.timedelta) -> OfficerCredential:
    """Sign an officer credential for `device_id`, valid from now for `shift`."""
    nbf = int(utcnow().timestamp())
    exp = nbf + int(shift.total_seconds())
    claims = {
        "typ": CREDENTIAL_TYPE,
        "officer_id": str(officer.id),
        "station_id": str(officer.station_id),
        "name_masked": mask_name(officer.name),
        "device_id": device_id,
        "nbf": nbf,
        "exp": exp,
    }
    signed = sign1(cbor2.dumps(claims), active_issuer(db))
    return OfficerCredential(
        credential=signed,
        officer_id=claims["officer_id"],
        station_id=claims["station_id"],
        name_masked=claims["name_masked"],
        not_before=nbf,
        expires_at=exp,
    )


def verify_officer_login(
    db: Session,
    *,
    device_id: str,
    mobile_e164: str,
    code: str,
    shift: dt.timedelta,
    client_ip: str | None,
) -> OfficerCredential:
    """Confirm the SMS code of a pending login and return the signed credential. Commits."""
    device = _live_device(db, device_id)
    now = utcnow()
    login = db.scalars(
        select(OfficerDeviceLogin)
        .where(
            OfficerDeviceLogin.device_id == device.id,
            OfficerDeviceLogin.mobile == mobile_e164,
            OfficerDeviceLogin.verified_at.is_(None),
        )
        .order_by(OfficerDeviceLogin.created_at.desc(), OfficerDeviceLogin.id.desc())
        .limit(1)
    ).first()
    if login is None or login.expires_at <= now:
        raise Invalid(reason="no_login_pending", detail="start the login on this device first")
    officer = db.get(Officer, login.officer_id)
    if officer is None or (device.station_id is not None and officer.station_id != device.station_id):
        # Taken off the whitelist between the two steps.
        raise NotAllowed(reason="not_on_whitelist", detail="no longer a duty officer of this station")
    verify_code(db, mobile_e164, OTP_PURPOSE, code)  # wrong code: commits the attempt, raises
    credential = issue_credential(db, officer, device.id, shift)
    login.verified_at = now
    login.mobile = None  # the pending match is done; keep no more personal data than needed
    login.credential_expires_at = dt.datetime.fromtimestamp(credential.expires_at, dt.UTC)
    audit.record(
        db,
        "officer.device_login",
        target=f"officer:{officer.id}",
        client_ip=client_ip,
        device_id=device.id,
        station_id=officer.station_id,
        expires_at=credential.expires_at,
    )
    return credential
