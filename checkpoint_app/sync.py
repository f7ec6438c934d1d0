"""Background sync: upload the outbox in device-signed batches, refresh trust data.

Rules (docs/checkpoint-sync.md):
- an event leaves the queue only when the hub answered it `accepted` or `duplicate`;
- a `rejected` event is parked (kept, shown in the status) and never blocks the events after it;
- failures back off with full jitter (sleep uniform(0, min(cap, base * 2**attempt))), so a fleet of
  devices coming back online does not hit the hub in lockstep;
- it runs on its own thread and holds the store's lock only for short statements;
- every upload tells the hub the app version and what is still queued behind it, and a round with
  nothing to upload sends an empty batch (a status report) at most every `report_interval_s`, so the
  hub knows the device is alive and how far behind it is ("Device report" in the same doc).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from typing import Any

from checkpoint_app.enrolment import device_key
from checkpoint_app.errors import CheckpointError, HubUnavailableError
from checkpoint_app.hlc import HybridClock
from checkpoint_app.hubclient import HubClient, HubHTTPError
from checkpoint_app.models import SyncReport, SyncStatus
from checkpoint_app.store import Store
from checkpoint_app.verifier import Verifier
from checkpoint_app.version import app_version
from crypto.errors import CryptoError
from crypto.status import StatusList, apply_delta, load_status_delta, load_status_list
from crypto.trust import TrustBundle, load_trust_bundle

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # contract limit


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """AWS 'full jitter' backoff: uniform over [0, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return (rng or random).uniform(0.0, ceiling)


def event_to_wire(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": row["event_id"],
        "seq": row["seq"],
        "scanned_at": row["scanned_at"],
        "hlc": row["hlc"],
        "ok": bool(row["ok"]),
        "reason": row["reason"],
        "pass_id": row["pass_id"],
        "officer_id": row["officer_id"],
        "issuer_kid": row["issuer_kid"],
        "serial": row["serial"],
        "trust_age_s": row["trust_age_s"],
        "stale": bool(row["stale"]),
    }


class SyncEngine:
    def __init__(
        self,
        store: Store,
        verifier: Verifier,
        clock: HybridClock,
        *,
        hub_url: str,
        interval_s: float = 15.0,
        batch_size: int = 500,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 60.0,
        report_interval_s: float = 300.0,
        version: str | None = None,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.clock = clock
        self.hub_url = hub_url
        self.interval_s = interval_s
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.report_interval_s = report_interval_s
        self.version = version or app_version()
        self._last_report: float | None = None  # time.monotonic() of the last batch the hub took
        self._run_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._online = False
        self.attempt = 0  # consecutive failures, drives the backoff

    # -- thread ---------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="checkpoint-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.sync_once()
            except Exception as exc:  # the thread must survive anything; the error is reported
                log.exception("sync round failed")
                report = SyncReport(error=f"{type(exc).__name__}")
            if report.error is None:
                self._wake.wait(self.interval_s)
                self._wake.clear()
                # Let a burst of scans collect into one batch instead of one request per scan.
                self._stop.wait(0.2)
            else:
                # While backing off, new scans do not wake us: that would defeat the backoff.
                self._stop.wait(full_jitter(self.attempt, self.backoff_base_s, self.backoff_cap_s))

    # -- one round ------------------------------------------------------------------------------------
    def sync_once(self) -> SyncReport:
        with self._run_lock:
            report = SyncReport()
            device = self.store.device()
            if device is None:
                report.error = "not enrolled"
                return report
            with HubClient(self.hub_url) as client:
                try:
                    self._upload(client, device.device_id, report)
                    self._refresh_trust(client, report)
                    self._online = True
                except HubUnavailableError as exc:
                    self._online = False
                    report.error = str(exc)
                except (HubHTTPError, CheckpointError, CryptoError) as exc:
                    self._online = True
                    report.error = str(exc)
            report.online = self._online
            self.attempt = 0 if report.error is None else self.attempt + 1
            self.store.record_sync(ok=report.error is None, error=report.error, online=self._online)
            if report.error is None:
                self.store.purge_old()
            return report

    def refresh_trust_best_effort(self) -> SyncReport:
        with self._run_lock:
            report = SyncReport()
            with HubClient(self.hub_url) as client:
                try:
                    self._refresh_trust(client, report)
                    self._online = True
                except (CheckpointError, CryptoError) as exc:
                    report.error = str(exc)
            report.online = self._online
            return report

    def status(self) -> SyncStatus:
        return self.store.sync_status(online=self._online, running=self.running)

    # -- upload ---------------------------------------------------------------------------------------
    def _upload(self, client: HubClient, device_id: str, report: SyncReport) -> None:
        key = device_key(self.store)
        while True:
            rows = self.store.queued_events(self.batch_size)
            if not rows and not self._report_due(report):
                return
            now = time.time()
            # What stays queued behind this batch once the hub has it (docs/checkpoint-sync.md).
            waiting, oldest = self.store.queue_behind(rows[-1]["seq"] if rows else None)
            body = {
                "device_id": device_id,
                "batch_id": str(uuid.uuid4()),  # fresh per attempt: a retry is not a replay
                # Floored like verdict times, so a phone whose clock fell back to 1970 still sends
                # a plausible sent_at.
                "sent_at": self.verifier.verdict_time(now),
                "events": [event_to_wire(r) for r in rows],
                "app_version": self.version,
                # Ages by the device's own clock on both ends, so the hub needs no clock agreement; a
                # clock set back since the scan gives a negative difference, sent as 0.
                "queue": {
                    "waiting": waiting,
                    "oldest_age_s": max(0, int(now - oldest)) if waiting and oldest is not None else None,
                },
            }
            raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            ids = [r["event_id"] for r in rows]
            self.store.note_attempt(ids)
            # A 4xx/5xx for the whole batch (401/403 device refused, 422 body unusable) raises: the
            # round ends with the error shown and retried with backoff. Nothing is parked for it,
            # since per-event problems come back as "rejected" results, not as a failed batch.
            answer = client.upload_batch(device_id, raw, key.sign(raw))
            self._last_report = time.monotonic()
            report.batches += 1
            report.uploaded += len(rows)
            server_time = answer.get("server_time")
            if isinstance(server_time, int | float):
                self.store.save_hlc(self.clock.observe(int(server_time * 1000)))
            if not rows:
                return  # the status report: nothing to acknowledge
            progressed = self._apply_results(ids, answer["results"], report)
            if not progressed:
                # The hub answered none of our events: stop this round rather than spin.
                raise CheckpointError("sync_unacknowledged")

    def _report_due(self, report: SyncReport) -> bool:
        """With nothing to upload: send an empty batch (version and queue only) when this round sent
        nothing yet and the hub has heard nothing from us for `report_interval_s` (or since start-up)."""
        if report.batches:
            return False
        return self._last_report is None or time.monotonic() - self._last_report >= self.report_interval_s

    def _apply_results(self, ids: list[str], results: list[Any], report: SyncReport) -> bool:
        sent = set(ids)
        acked: list[str] = []
        rejected: dict[str, str] = {}
        for result in results:
            if not isinstance(result, dict) or result.get("event_id") not in sent:
                continue
            status = result.get("status")
            if status == "accepted":
                report.accepted += 1
                acked.append(result["event_id"])
            elif status == "duplicate":
                report.duplicate += 1
                acked.append(result["event_id"])
            elif status == "rejected":
                report.rejected += 1
                rejected[result["event_id"]] = str(result.get("error") or "rejected")
        self.store.mark_acknowledged(acked)
        self.store.park(rejected)
        return bool(acked or rejected)

    # -- trust data -----------------------------------------------------------------------------------
    def _refresh_trust(self, client: HubClient, report: SyncReport) -> None:
        device = self.store.device()
        if device is None:
            return
        row = self.store.trust_row()
        fetched = client.trust_bundle(row["etag"] if row else None)
        if fetched.content is not None:
            bundle = load_trust_bundle(fetched.content, device.root_public_key)  # CryptoError: not saved
            current = self.verifier.trust
            # Never go back to an older bundle (a replayed one could un-compromise a key).
            if current is None or bundle.issued_at >= current.issued_at:
                self.store.save_trust(fetched.content, bundle.issued_at, bundle.valid_until, fetched.etag)
                report.trust_refreshed = True
        else:
            self.store.touch_trust()
        self.verifier.reload()
        bundle_now = self.verifier.trust
        if bundle_now is None:
            return
        for kid in sorted({k.kid for k in bundle_now.issuer_keys}):
            try:
                if self._refresh_status(client, bundle_now, kid):
                    report.status_lists_refreshed += 1
            except (HubHTTPError, CryptoError, CheckpointError) as exc:
                if isinstance(exc, HubUnavailableError):
                    raise
                # One key's list failing must not keep the others stale.
                report.errors.append(f"status {kid.hex()}: {exc}")
        self.verifier.reload()
        if report.errors:
            log.warning("status lists not refreshed: %s", "; ".join(report.errors)[:300])
            raise CheckpointError("status_list_failed")

    def _refresh_status(self, client: HubClient, bundle: TrustBundle, kid: bytes) -> bool:
        kid_hex = kid.hex()
        row = self.store.status_rows().get(kid_hex)
        current = (
            StatusList(issuer_kid=kid, counter=row.counter, size=row.size, bits=bytearray(row.bits))
            if row
            else None
        )
        fetched = client.status_list(
            kid_hex, since=current.counter if current else None, etag=row.etag if row else None
        )
        if fetched.content is None:
            return False
        public_keys = [k.public_key for k in bundle.keys_for(kid)]
        new = self._parse_status(fetched.content, public_keys, current)
        if new is None:
            # A delta that does not fit what we hold: take the full list instead.
            fetched = client.status_list(kid_hex)
            if fetched.content is None:
                return False
            new = self._parse_status(fetched.content, public_keys, None)
            if new is None:
                raise CheckpointError("status_list_bad", kid=kid_hex)
        if new.issuer_kid != kid:
            raise CheckpointError("status_list_other_key", kid=kid_hex)
        if current is not None and new.counter < current.counter:
            return False  # older than what we have: ignore (replay)
        self.store.save_status(kid_hex, new.counter, new.size, bytes(new.bits), fetched.etag)
        return True

    @staticmethod
    def _parse_status(data: bytes, public_keys: list[bytes], current: StatusList | None) -> StatusList | None:
        for public_key in public_keys:
            try:
                return load_status_list(data, public_key)
            except CryptoError:
                pass
            if current is not None:
                try:
                    delta = load_status_delta(data, public_key)
                    return apply_delta(current, delta)
                except CryptoError:
                    pass
        return None
