"""Officer login on a checkpoint device: name + mobile against the duty roster, then an SMS code, then
an offline credential (hub.services.devices.credentials.issue_credential) the device checks until the
shift ends.

The answer to the first step does not say whether the name and mobile are on a roster: a mismatch
records an undelivered code (hub.services.otp, `deliver=False`) and answers "sent" like a match, and
the second step answers wrong guesses for it like for a real code (docs/identity.md). Otherwise anyone
holding a device id could test who is on which station's roster.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models.devices import Device, OfficerDeviceLogin
from hub.models.rosters import Officer
from hub.services import audit
from hub.services.devices.credentials import OfficerCredential, issue_credential
from hub.services.errors import Invalid, NotAllowed, NotAuthenticated
from hub.services.otp import request_code, verify_code
from hub.services.rosters import find_duty_officer

# Its own purpose, so that a code sent for the LINE officer login cannot mint an offline credential.
OTP_PURPOSE = "officer_device_login"


def _live_device(db: Session, device_id: str) -> Device:
    device = db.get(Device, device_id)
    if device is None:
        raise NotAuthenticated("no enrolled device with this id", reason="unknown_device")
    if device.revoked_at is not None:
        raise NotAllowed("this device has been revoked", reason="device_revoked")
    return device


def _on_duty_here(officer: Officer | None, device: Device) -> bool:
    return officer is not None and (device.station_id is None or officer.station_id == device.station_id)


def start(
    db: Session, *, device_id: str, name: str, mobile_e164: str, lifetime_s: int, client_ip: str | None
) -> None:
    """Match the officer against the duty roster (of the device's station, when it has one) and send an
    SMS code; on a mismatch record an undelivered one. The same answer either way."""
    device = _live_device(db, device_id)
    officer = find_duty_officer(db, mobile_e164, name)
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
    on_duty = _on_duty_here(officer, device)
    if on_duty:
        assert officer is not None
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
    request_code(db, mobile_e164, OTP_PURPOSE, client_ip, deliver=on_duty)


def verify(
    db: Session,
    *,
    device_id: str,
    mobile_e164: str,
    code: str,
    shift: dt.timedelta,
    client_ip: str | None,
) -> OfficerCredential:
    """Confirm the SMS code of a pending login and return the signed credential.

    The code is checked before anything else is said: without a pending login, a guess is still
    counted and refused like a wrong code, and only the right code learns `no_login_pending`."""
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
    verify_code(db, mobile_e164, OTP_PURPOSE, code)  # wrong code: commits the attempt, raises
    if login is None or login.expires_at <= now:
        # The refusal's rollback leaves the right code for another device usable there.
        raise Invalid("start the login on this device first", reason="no_login_pending")
    officer = db.get(Officer, login.officer_id)
    if not _on_duty_here(officer, device):
        # Taken off the roster between the two steps.
        raise NotAllowed("no longer a duty officer of this station", reason="not_on_whitelist")
    assert officer is not None
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
