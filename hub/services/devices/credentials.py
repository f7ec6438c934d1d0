"""The offline credential an officer earns by logging in on a checkpoint device.

The login itself (roster match, SMS code) is hub.services.officer_login. With the code confirmed, the
hub signs a credential (COSE_Sign1 by the active issuer key, payload as in docs/CONTRACTS.md) that the
device checks offline against its trust bundle until the shift ends.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import cbor2
from sqlalchemy.orm import Session

from crypto.cose import sign1
from crypto.identity import mask_name
from hub.db import utcnow
from hub.models.rosters import Officer
from hub.services.keys import active_issuer

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
