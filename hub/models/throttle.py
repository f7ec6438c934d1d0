"""The login throttle's state: consecutive failed console logins per account, per client address and per
(account, address) pair, and until when the next try must wait (hub.services.login_throttle).

In the database, not in a worker's memory, because several workers answer the same hub. The key is a
keyed hash (hub.core.protection.Protector.throttle_hash): the table holds no mobile or address in clear.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime


class LoginThrottle(Base):
    __tablename__ = "login_throttles"

    # "account", "address" or "pair"
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), nullable=False)
    # No try is checked before this moment; None while the failures are within the free allowance.
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
