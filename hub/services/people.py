"""Storing people's identifiers: national IDs protected (see ProtectedNationalId), masked for output."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crypto.identity import mask_national_id
from hub.context import context_of
from hub.models._columns import ProtectedNationalId


def set_national_id(db: Session, row: ProtectedNationalId, national_id: str | None) -> None:
    if national_id is None:
        row.national_id_ciphertext = None
        row.national_id_hash = None
        row.national_id_masked = None
        return
    protector = context_of(db).protector
    row.national_id_ciphertext = protector.encrypt(national_id)
    row.national_id_hash = protector.national_id_hash(national_id)
    row.national_id_masked = mask_national_id(national_id)


def national_id_hash(db: Session, national_id: str) -> str:
    return context_of(db).protector.national_id_hash(national_id)


def reveal_national_id(db: Session, row: ProtectedNationalId) -> str | None:
    """The ID in clear: only for a caller holding the unmask permission, which must audit the read."""
    if row.national_id_ciphertext is None:
        return None
    return context_of(db).protector.decrypt(row.national_id_ciphertext)
