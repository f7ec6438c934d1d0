"""Parsing and checking a scan batch body (docs/CONTRACTS.md, `POST /scans/batches`).

Hand-written rather than a pydantic model on purpose: a batch carries up to a thousand events and one
bad event must be answered "rejected" while the rest are stored, so each event is checked on its own,
and this path is the hot loop of ingestion (see bench/ingest.py). The stdlib `json` parser and plain
dict checks cost a few microseconds per event.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from hub.services.devices.device_report import DeviceReport, ReportFormatError, parse_report

# Anything outside this range is a broken device clock or a forged value, not a scan time.
MIN_EPOCH = 1_577_836_800  # 2020-01-01
MAX_EPOCH = 4_102_444_800  # 2100-01-01
MAX_INT64 = 2**63 - 1

_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_HEX16 = re.compile(r"[0-9a-fA-F]{16}")
# Verdict reasons are short snake_case words (crypto.verify.Reason); an app version newer than the hub
# may add one, so the pattern is checked rather than the list, and nothing is lost to an upgrade.
_REASON = re.compile(r"[a-z][a-z0-9_]{0,31}")


class BatchFormatError(ValueError):
    """The body as a whole is unusable: 422 (or 413 when `too_large`)."""

    def __init__(self, detail: str, *, too_large: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.too_large = too_large


@dataclass
class ParsedBatch:
    device_id: str
    batch_id: str
    sent_at: dt.datetime
    # The device's app version and upload queue (hub.services.devices.device_report); empty from older apps.
    report: DeviceReport = field(default_factory=DeviceReport)
    # One entry per event, in order: its columns for the scans table (check_event), or None when rejected.
    rows: list[dict[str, Any] | None] = field(default_factory=list)
    # Per event: the event_id to echo back, exactly as sent (None if not short text), and why it was rejected.
    echo_ids: list[Any] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)


def canonical_uuid(value: object) -> str | None:
    """The lowercase hyphenated form of a UUID string, or None if `value` is not one."""
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _epoch(value: object) -> float | None:
    # bool is an int subclass; True is not a time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not MIN_EPOCH <= value <= MAX_EPOCH:
        return None
    return float(value)


def _int_or_none(value: object, *, minimum: int) -> tuple[bool, int | None]:
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT64:
        return False, None
    return True, value


_UTC = dt.UTC
_fromtimestamp = dt.datetime.fromtimestamp


def check_event(ev: object) -> dict[str, Any] | str:
    """The event's own columns of the scans table (`scanned_at` still as epoch seconds), or the reason
    the event is rejected. The batch-wide columns (device, batch, receipt time) are added on insert."""
    if not isinstance(ev, dict):
        return "event must be an object"
    event_id = canonical_uuid(ev.get("event_id"))
    if event_id is None:
        return "event_id: must be a UUID"
    seq = ev.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_INT64:
        return "seq: must be a non-negative integer"
    scanned_at = _epoch(ev.get("scanned_at"))
    if scanned_at is None:
        return "scanned_at: must be epoch seconds between 2020 and 2100"
    hlc = ev.get("hlc")
    if not isinstance(hlc, str) or not 0 < len(hlc) <= 64 or not hlc.isprintable():
        return "hlc: must be a string of 1-64 printable characters"
    ok = ev.get("ok")
    if not isinstance(ok, bool):
        return "ok: must be true or false"
    reason = ev.get("reason")
    if not isinstance(reason, str) or _REASON.fullmatch(reason) is None:
        return "reason: must be a snake_case word of at most 32 characters"
    pass_id = ev.get("pass_id")
    if pass_id is not None:
        if not isinstance(pass_id, str) or _HEX32.fullmatch(pass_id) is None:
            return "pass_id: must be 32 hex digits or null"
        pass_id = pass_id.lower()
    officer_id = ev.get("officer_id")
    # Printable only: PostgreSQL text cannot hold NUL, and a control character in a register is a bug.
    if officer_id is not None and (
        not isinstance(officer_id, str) or not 0 < len(officer_id) <= 32 or not officer_id.isprintable()
    ):
        return "officer_id: must be a string of 1-32 printable characters or null"
    issuer_kid = ev.get("issuer_kid")
    if issuer_kid is not None:
        if not isinstance(issuer_kid, str) or _HEX16.fullmatch(issuer_kid) is None:
            return "issuer_kid: must be 16 hex digits or null"
        issuer_kid = issuer_kid.lower()
    good, serial = _int_or_none(ev.get("serial"), minimum=0)
    if not good:
        return "serial: must be a non-negative integer or null"
    # Negative ages happen when the device clock is behind the hub's; they are data, not errors.
    good, trust_age_s = _int_or_none(ev.get("trust_age_s"), minimum=-MAX_INT64)
    if not good:
        return "trust_age_s: must be an integer or null"
    stale = ev.get("stale", False)
    if not isinstance(stale, bool):
        return "stale: must be true or false"
    return {
        "event_id": event_id,
        "seq": seq,
        "scanned_at": scanned_at,
        "hlc": hlc,
        "ok": ok,
        "reason": reason,
        "pass_id": pass_id,
        "officer_id": officer_id,
        "issuer_kid": issuer_kid,
        "serial": serial,
        "trust_age_s": trust_age_s,
        "stale": stale,
    }


def parse_batch(body: bytes, *, max_events: int) -> ParsedBatch:
    """Parse a signed batch body. BatchFormatError if the batch as a whole cannot be taken."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BatchFormatError("body is not valid JSON") from exc
    if not isinstance(doc, dict):
        raise BatchFormatError("body must be a JSON object")
    device_id = canonical_uuid(doc.get("device_id"))
    if device_id is None:
        raise BatchFormatError("device_id: must be a UUID")
    batch_id = canonical_uuid(doc.get("batch_id"))
    if batch_id is None:
        raise BatchFormatError("batch_id: must be a UUID")
    sent_at = _epoch(doc.get("sent_at"))
    if sent_at is None:
        raise BatchFormatError("sent_at: must be epoch seconds between 2020 and 2100")
    events = doc.get("events")
    if not isinstance(events, list):
        raise BatchFormatError("events: must be a list")
    if len(events) > max_events:
        raise BatchFormatError(f"events: at most {max_events} per batch, got {len(events)}", too_large=True)

    try:
        report = parse_report(doc)
    except ReportFormatError as exc:
        raise BatchFormatError(exc.detail) from exc

    parsed = ParsedBatch(
        device_id=device_id, batch_id=batch_id, sent_at=_fromtimestamp(sent_at, _UTC), report=report
    )
    rows, echo_ids, errors = parsed.rows, parsed.echo_ids, parsed.errors
    for ev in events:
        result = check_event(ev)
        if isinstance(result, str):
            rows.append(None)
            raw_id = ev.get("event_id") if isinstance(ev, dict) else None
            # Echo back what the device sent so it can park that event, but only if it is short text.
            echo_ids.append(raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else None)
            errors.append(result)
        else:
            rows.append(result)
            echo_ids.append(ev["event_id"])  # as sent (the device matches answers by its own string)
            errors.append(None)
    return parsed
