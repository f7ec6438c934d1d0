"""The hub's access to its keys: the KeyStore files (hub.core.keystore) plus serials in the database.

Serials are allocated in the database, not the KeyStore's counter file, so several hub processes
(PostgreSQL deployment) never hand out the same serial twice.

The key files themselves, with the pending issuer key of an offline-root hub, are
`hub.core.keystore.HubKeyStore`; the Session's context (hub.context) opens it once.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.keys import KeyPair
from hub.context import context_of
from hub.core.keystore import HubKeyStore
from hub.models.trust import IssuerKeyRecord


def keystore(db: Session) -> HubKeyStore:
    return context_of(db).keystore


def active_issuer(db: Session) -> KeyPair:
    return keystore(db).active_issuer()


def root_public_key(db: Session) -> bytes:
    """From root.pub: the root private key is not needed (and absent on an offline-root hub)."""
    return keystore(db).root_public_key()


def ensure_issuer_record(db: Session, kid_hex: str) -> IssuerKeyRecord:
    """The key's row, created on first use. Two processes may race to create it: the loser's insert
    fails inside a savepoint and it reads the winner's row instead."""
    record = db.get(IssuerKeyRecord, kid_hex)
    if record is not None:
        return record
    try:
        with db.begin_nested():
            db.add(IssuerKeyRecord(kid=kid_hex, next_serial=0, status_counter=0))
    except IntegrityError:
        pass
    record = db.get(IssuerKeyRecord, kid_hex, populate_existing=True)
    assert record is not None
    return record


def allocate_serial(db: Session, kid_hex: str) -> int:
    """The next unused serial for issuer key `kid_hex`, in the caller's transaction.

    One atomic `UPDATE ... RETURNING`: PostgreSQL row-locks it and SQLite serialises writers, so two
    concurrent issuers cannot get the same serial.
    """
    ensure_issuer_record(db, kid_hex)
    new_next = db.execute(
        update(IssuerKeyRecord)
        .where(IssuerKeyRecord.kid == kid_hex)
        .values(next_serial=IssuerKeyRecord.next_serial + 1)
        .returning(IssuerKeyRecord.next_serial)
    ).scalar_one()
    return int(new_next) - 1
