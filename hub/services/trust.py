"""Trust bundle and status lists as served to checkpoints (GET /trust/bundle, /trust/status/{kid}).

Revocation state lives in the database (status_entries): each revocation bumps the issuer key's
counter by one and records that counter, so a delta "since N" is simply the entries with counter > N.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.status import StatusDelta, StatusList, sign_status_delta, sign_status_list
from crypto.trust import TrustBundle, sign_trust_bundle
from hub.context import context_of
from hub.errors import HubError
from hub.models.trust import IssuerKeyRecord, SignedDocument, StatusEntry
from hub.services.keys import ensure_issuer_record, keystore

BUNDLE_DOCUMENT = "trust_bundle"


@dataclass(frozen=True)
class StatusDocument:
    body: bytes
    counter: int
    kind: str  # "full" or "delta"


def status_counter(db: Session, kid_hex: str) -> int:
    return int(db.scalar(select(IssuerKeyRecord.status_counter).where(IssuerKeyRecord.kid == kid_hex)) or 0)


def revoke_serial(db: Session, kid_hex: str, serial: int) -> int:
    """Mark `serial` revoked (in the caller's transaction); returns the new counter. Idempotent."""
    existing = db.get(StatusEntry, (kid_hex, serial))
    if existing is not None:
        return status_counter(db, kid_hex)
    ensure_issuer_record(db, kid_hex)
    counter = db.execute(
        update(IssuerKeyRecord)
        .where(IssuerKeyRecord.kid == kid_hex)
        .values(status_counter=IssuerKeyRecord.status_counter + 1)
        .returning(IssuerKeyRecord.status_counter)
    ).scalar_one()
    db.add(StatusEntry(kid=kid_hex, serial=serial, counter=int(counter)))
    db.flush()
    return int(counter)


def known_kid(db: Session, kid_hex: str) -> bytes:
    try:
        kid = bytes.fromhex(kid_hex)
    except ValueError:
        kid = b""
    if len(kid) != 8 or kid_hex != kid_hex.lower():
        raise HubError(400, "bad_kid", "kid is 16 lowercase hex digits")
    if kid not in {info.kid for info in keystore(db).issuers()}:
        raise HubError(404, "unknown_key", "no issuer key with this kid")
    return kid


def status_list(db: Session, kid_hex: str) -> StatusList:
    kid = known_kid(db, kid_hex)
    record = db.get(IssuerKeyRecord, kid_hex)
    size = record.next_serial if record is not None else 0
    serials = list(db.scalars(select(StatusEntry.serial).where(StatusEntry.kid == kid_hex)))
    size = max([size, *(s + 1 for s in serials)])
    sl = StatusList.empty(kid, size)
    for serial in serials:
        sl.bits[serial >> 3] |= 1 << (serial & 7)
    sl.counter = record.status_counter if record is not None else 0
    return sl


def status_document(db: Session, kid_hex: str, since: int | None) -> StatusDocument:
    """The full signed list, or a signed delta from counter `since` when the hub can give one."""
    kid = known_kid(db, kid_hex)
    key = keystore(db).issuer(kid)
    counter = status_counter(db, kid_hex)
    if since is not None and 0 <= since <= counter:
        serials = db.scalars(
            select(StatusEntry.serial)
            .where(StatusEntry.kid == kid_hex, StatusEntry.counter > since, StatusEntry.counter <= counter)
            .order_by(StatusEntry.serial)
        )
        delta = StatusDelta(issuer_kid=kid, from_counter=since, to_counter=counter, serials=tuple(serials))
        return StatusDocument(sign_status_delta(delta, key), counter, "delta")
    return StatusDocument(sign_status_list(status_list(db, kid_hex), key), counter, "full")


def _bundle_content(db: Session) -> tuple[TrustBundle, str]:
    ctx = context_of(db)
    store = keystore(db)
    template = store.trust_bundle(ctx.settings.trust_bundle_valid_days)
    infos = tuple(
        dataclasses.replace(info, status_counter=status_counter(db, info.kid.hex()))
        for info in template.issuer_keys
    )
    fingerprint = hashlib.sha256(
        repr(
            [(i.kid, i.public_key, str(i.state), i.not_before, i.not_after, i.status_counter) for i in infos]
        ).encode()
    ).hexdigest()
    return dataclasses.replace(template, issuer_keys=infos), fingerprint


def trust_bundle(db: Session) -> tuple[bytes, int]:
    """(signed bundle, issued_at). Re-signed only when a key or a counter changed, or at half its
    validity, so an unchanged bundle keeps its ETag and devices fetch nothing."""
    bundle, fingerprint = _bundle_content(db)
    valid_seconds = context_of(db).settings.trust_bundle_valid_days * 86_400
    cached = db.get(SignedDocument, BUNDLE_DOCUMENT)
    now = int(time.time())
    if (
        cached is not None
        and cached.fingerprint == fingerprint
        and now - cached.issued_at < valid_seconds // 2
    ):
        return cached.body, cached.issued_at
    if cached is not None and cached.issued_at >= bundle.issued_at:
        # Two changes within one second: the ETag (issued_at) must still move.
        issued_at = cached.issued_at + 1
        bundle = dataclasses.replace(
            bundle, issued_at=issued_at, hub_time=issued_at, valid_until=issued_at + valid_seconds
        )
    body = sign_trust_bundle(bundle, keystore(db).root())
    try:
        if cached is None:
            document = SignedDocument(
                name=BUNDLE_DOCUMENT, fingerprint=fingerprint, issued_at=bundle.issued_at, body=body
            )
            db.add(document)
        else:
            cached.fingerprint, cached.issued_at, cached.body = fingerprint, bundle.issued_at, body
        db.commit()
    except IntegrityError:
        # Another hub process stored its bundle first: serve that one, so every process agrees on the ETag.
        db.rollback()
        stored = db.get(SignedDocument, BUNDLE_DOCUMENT, populate_existing=True)
        assert stored is not None
        return stored.body, stored.issued_at
    return body, bundle.issued_at
