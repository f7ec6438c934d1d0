"""Plain value types the checkpoint core hands to its callers (the Kivy UI, the CLI, tests).

They carry only what a screen may show: holder name (the officer compares it with the ID card),
masked national ID, organisation. Nothing here is ever written to a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crypto.verify import Reason


@dataclass(frozen=True)
class OfficerSession:
    """A duty officer's credential, verified offline against the trust bundle's issuer keys."""

    officer_id: str
    name_masked: str
    station_id: str
    device_id: str
    not_before: int
    expires_at: int

    def valid_at(self, now: float) -> bool:
        return self.not_before <= now < self.expires_at


@dataclass(frozen=True)
class ScanOutcome:
    """What the verdict screen shows. Written durably to the outbox before it is returned."""

    event_id: str
    ok: bool
    reason: Reason  # crypto.verify.Reason (a StrEnum)
    reason_text_zh: str
    reason_text_en: str
    # Full name as printed on the pass: shown for the ID comparison, never logged or stored, and
    # kept out of repr() so that logging an outcome cannot leak it.
    holder_name: str | None = field(repr=False)
    masked_national_id: str | None
    org_name: str | None
    kind: str | None
    valid_until: int | None  # the pass's exp, epoch seconds
    trust_age_s: int | None
    stale: bool
    scanned_at: float
    pass_id: str | None = None  # hex
    seq: int = 0


class IdCheckResult(StrEnum):
    MATCH = "match"  # checksum right and every visible character equal
    MISMATCH = "mismatch"  # a valid ID number, but not the one on the pass
    INVALID = "invalid"  # not a valid national ID / resident certificate number (typo or forgery)
    NO_PASS = "no_pass"  # the scan had no readable pass to compare with


@dataclass(frozen=True)
class IdCheck:
    result: IdCheckResult
    checksum_ok: bool
    visible_match: bool
    message_zh: str
    message_en: str

    @property
    def ok(self) -> bool:
        return self.result is IdCheckResult.MATCH


@dataclass(frozen=True)
class ScanRecord:
    """One row of this shift's history; names are masked here (history is not the ID check)."""

    event_id: str
    seq: int
    scanned_at: float
    ok: bool
    reason: str
    reason_text_zh: str
    reason_text_en: str
    holder_name_masked: str | None
    masked_national_id: str | None
    org_name: str | None
    kind: str | None
    stale: bool
    state: str  # "queued" | "sent" | "parked"


@dataclass(frozen=True)
class SyncStatus:
    queued: int
    parked: int
    last_sync_at: float | None
    trust_age_s: int | None
    online: bool
    last_error: str | None
    running: bool = False
    trust_valid_until: int | None = None


@dataclass
class SyncReport:
    uploaded: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    trust_refreshed: bool = False
    status_lists_refreshed: int = 0
    online: bool = False
    error: str | None = None
    batches: int = 0
    errors: list[str] = field(default_factory=list)
