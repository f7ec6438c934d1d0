"""Column groups shared by several tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import UtcDateTime, utcnow


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UtcDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class ProtectedNationalId:
    """A national ID stored so that a database dump does not reveal it.

    ciphertext: SecretBox under a key derived from the hub secret (readable only for audited unmasking);
    lookup hash: keyed BLAKE2b, so duplicates and searches work without decrypting every row;
    masked: the city's pattern, safe to show and to put on passes.
    """

    national_id_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    national_id_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    national_id_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
