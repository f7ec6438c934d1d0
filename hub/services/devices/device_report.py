"""What a checkpoint tells the hub about itself with each scan batch: its app version and its upload queue.

docs/checkpoint-sync.md ("Device report"). Both fields are optional on the wire, so a batch from an app
that predates them is still taken; when present they are checked strictly and a bad value refuses the
whole batch (422), which then changes nothing. The hub keeps the latest report on the device row, where
the console's devices page, the REST device list and the dashboard read it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from hub.models.devices import Device

# A device whose last batch is older than this (or that never sent one) has gone quiet: the dashboard and
# the devices page flag it. Its app syncs every few seconds while online and reports at least every
# few minutes with nothing to send (checkpoint_app/sync.py), so an hour means offline or switched off.
QUIET_AFTER = dt.timedelta(hours=1)

# The sync note every stored batch runs: built once, a plain UPDATE of the table (no device object is
# loaded in a batch's session to keep in step). Its SET clause is the columns given when it runs.
_DEVICES = Device.__table__
_NOTE_SYNC = update(_DEVICES).where(_DEVICES.c.id == bindparam("for_device"))
# A version string as packaging tools write it ("1.4.0", "0.1.0+android", "2.0.0rc1"): no spaces, no markup.
_APP_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}")
# Counts and ages fit the 32-bit columns; more than this is a broken or forged report, not a backlog.
MAX_WAITING = 10_000_000
MAX_AGE_S = 10 * 365 * 86400


class ReportFormatError(ValueError):
    """A report field is present but wrong; `detail` names the field and what it must be."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class DeviceReport:
    """None fields were not sent (an older app): the hub then keeps what it knew."""

    app_version: str | None = None
    # The outbox behind this batch: events still waiting to be sent (this batch's own and parked ones not
    # counted) and how old the oldest of them was at `sent_at`, by the device's own clock.
    queue_waiting: int | None = None
    queue_oldest_age_s: int | None = None

    @property
    def has_queue(self) -> bool:
        return self.queue_waiting is not None


def _count(value: object, name: str, maximum: int) -> int:
    # bool is an int subclass; true is not a count.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ReportFormatError(f"{name}: must be an integer from 0 to {maximum}")
    return value


def parse_report(doc: dict[str, Any]) -> DeviceReport:
    """The report fields of a batch body (`app_version`, `queue`), checked. ReportFormatError if wrong."""
    app_version = doc.get("app_version")
    if app_version is not None and (
        not isinstance(app_version, str) or not _APP_VERSION.fullmatch(app_version)
    ):
        raise ReportFormatError(
            "app_version: must be 1-32 letters, digits and . + _ - (starting with a letter or digit)"
        )
    queue = doc.get("queue")
    if queue is None:
        return DeviceReport(app_version=app_version)
    if not isinstance(queue, dict):
        raise ReportFormatError("queue: must be an object {waiting, oldest_age_s}")
    waiting = _count(queue.get("waiting"), "queue.waiting", MAX_WAITING)
    oldest = queue.get("oldest_age_s")
    if waiting == 0:
        if oldest is not None:
            raise ReportFormatError("queue.oldest_age_s: must be null when nothing is waiting")
    else:
        if oldest is None:
            raise ReportFormatError("queue.oldest_age_s: required when events are waiting")
        oldest = _count(oldest, "queue.oldest_age_s", MAX_AGE_S)
    return DeviceReport(app_version=app_version, queue_waiting=waiting, queue_oldest_age_s=oldest)


def record_sync(db: Session, device_id: str, received_at: dt.datetime, report: DeviceReport) -> None:
    """Note a stored batch on its device: the sync time always, the version and queue when sent.

    Called in the batch's own transaction, after its record is stored: a replayed or refused batch
    rolls back and cannot put an old report over a newer one.
    """
    values: dict[str, Any] = {"last_sync_at": received_at}
    if report.app_version is not None:
        values["app_version"] = report.app_version
    if report.has_queue:
        values["queue_waiting"] = report.queue_waiting
        values["queue_oldest_age_s"] = report.queue_oldest_age_s
        values["queue_reported_at"] = received_at
    db.execute(_NOTE_SYNC, {"for_device": device_id, **values})


def is_quiet(revoked_at: dt.datetime | None, last_sync_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A live device that has not synced within QUIET_AFTER (a revoked one is expected to be silent)."""
    return revoked_at is None and (last_sync_at is None or now - last_sync_at > QUIET_AFTER)
