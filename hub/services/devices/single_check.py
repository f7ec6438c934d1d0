"""One pass checked by a duty officer without a checkpoint device (LINE 掃碼核實): the verdict and its
record in the check register (the `scans` table the checkpoints upload to).

Only an officer account on a station's duty roster may check: the caller's Scope is checked before the
pass is read, and the check is recorded as one by that officer at that station, never another's.

A check in LINE has no checkpoint device, but the register is keyed by device. Each station gets one
register entry standing for "LINE 掃碼核實" (id derived from the station, never enrolled: its
`public_key` is a hash, not a key anyone holds, so no batch can ever be signed for it). The check is
then a scan like any other: by that officer, with the verdict, reason, pass id and issuer serial, so
`hub.services.queries.check_register` lists it by officer and by station.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.trust import load_trust_bundle
from crypto.verify import Verdict, verify
from hub.db import utcnow
from hub.models.devices import Device, Scan
from hub.models.identity import Role, User
from hub.models.passes import Pass
from hub.services import audit
from hub.services.errors import NotAllowed
from hub.services.keys import keystore
from hub.services.scope import Scope
from hub.services.trust import status_list, trust_bundle

_NAMESPACE = uuid.UUID("0d6f0f6e-6c1a-4e57-8d43-3f3f7b1d2a90")


def liff_device(db: Session, station_id: int | None) -> Device:
    return register_device(db, station_id, kind="line-liff", name="LINE 掃碼核實")


def register_device(db: Session, station_id: int | None, *, kind: str, name: str) -> Device:
    """The station's register entry for checks made without a checkpoint's own scan sequence (`kind`
    keeps them apart: a device's uploaded `seq` numbers must never meet the hub's)."""
    device_id = str(uuid.uuid5(_NAMESPACE, f"{kind}:{station_id}"))
    device = db.get(Device, device_id)
    if device is None:
        device = Device(
            id=device_id,
            name=name,
            public_key=hashlib.sha256(f"checkpass {kind.replace('-', ' ')} {station_id}".encode()).digest(),
            station_id=station_id,
            enrolled_at=utcnow(),
        )
        db.add(device)
        db.flush()
    return device


@dataclass(frozen=True)
class SingleCheck:
    verdict: Verdict
    scan: Scan


def current_verdict(db: Session, text: str) -> Verdict:
    """`verify()` over the signed trust bundle and status lists the hub serves its checkpoints."""
    signed, _ = trust_bundle(db)
    bundle = load_trust_bundle(signed, keystore(db).root_public_key())
    status = {info.kid: status_list(db, info.kid.hex()) for info in bundle.issuer_keys}
    return verify(text.strip(), bundle, status, int(time.time()))


def check_pass(db: Session, scope: Scope, text: str) -> SingleCheck:
    """The verdict on a scanned pass, recorded as a check by the calling duty officer. Anyone else
    (station admins not on the roster, enterprise roles, hub admins, an officer of no station) is
    refused before the pass is read, and nothing is recorded."""
    scope.require_role(Role.OFFICER)
    if scope.user.officer_id is None or scope.user.org_id is None:
        raise NotAllowed("not on a station's duty roster")
    verdict = current_verdict(db, text)
    return SingleCheck(verdict, _record_check(db, scope.user, verdict))


def hub_check(db: Session, device: Device, *, clock: str, **fields: object) -> Scan:
    """A check made on the hub, not on a checkpoint (LINE's scan page, the ID-card check): the device's
    next sequence number, scanned and received now, its own batch. `clock` names the source in the
    hybrid logical clock; `fields` are the verdict's (ok, reason, pass, officer, issuer, serial, trust)."""
    seq = (db.scalar(select(func.max(Scan.seq)).where(Scan.device_id == device.id)) or 0) + 1
    now = utcnow()
    event_id = str(uuid.uuid4())
    scan = Scan(
        event_id=event_id,
        device_id=device.id,
        seq=seq,
        batch_id=event_id,
        scanned_at=now,
        received_at=now,
        hlc=f"{int(now.timestamp() * 1000)}:0:{clock}",
        **fields,
    )
    db.add(scan)
    db.flush()
    return scan


def _record_check(db: Session, officer_account: User, verdict: Verdict) -> Scan:
    claims = verdict.claims
    scan = hub_check(
        db,
        liff_device(db, officer_account.org_id),
        clock="line",
        ok=bool(verdict.ok),
        reason=str(verdict.reason),
        pass_id=claims.pass_id.hex() if claims is not None else None,
        officer_id=str(officer_account.officer_id),
        issuer_kid=claims.issuer_kid.hex() if claims is not None else None,
        serial=claims.serial if claims is not None else None,
        trust_age_s=verdict.trust_age_s,
        stale=bool(verdict.stale),
    )
    # The officer is shown the holder's (masked) name: a read of the holder's data, named for them.
    held = (
        db.scalars(select(Pass.holder_mobile).where(Pass.pass_id == scan.pass_id)).first()
        if scan.pass_id
        else None
    )
    audit.record(
        db,
        "check.line",
        actor=officer_account,
        target=f"scan:{scan.event_id}",
        subjects=[held] if held else [],
        ok=scan.ok,
        reason=scan.reason,
    )
    return scan
