"""The facade the UI (and the CLI, and the tests) drive: one object per device data directory.

Order of truth for a scan: verify offline -> write the event durably to the outbox -> return the
outcome. The UI shows a verdict only after `check_pass` returned, so a shown verdict is never lost.
Sync runs on its own thread and touches the store only in short transactions, so scanning never
waits for the network.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from checkpoint_app import enrolment, officer_login
from checkpoint_app.decoder import DecoderChain
from checkpoint_app.errors import HubUnavailableError, NoOfficerError, NotEnrolledError
from checkpoint_app.hlc import HybridClock
from checkpoint_app.hubclient import HubClient
from checkpoint_app.idcheck import check_typed_id
from checkpoint_app.models import IdCheck, OfficerSession, ScanOutcome, ScanRecord, SyncReport, SyncStatus
from checkpoint_app.reasons import reason_text
from checkpoint_app.store import NewEvent, Store
from checkpoint_app.sync import SyncEngine
from checkpoint_app.verifier import Verifier

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointConfig:
    data_dir: Path
    hub_url: str | None = None  # overrides the URL from the enrolment QR (e.g. behind a tunnel)
    stale_policy: Literal["refuse", "flag"] = "flag"
    device_name: str = "checkpoint"
    sync_interval_s: float = 15.0  # idle refresh period of the sync thread
    batch_size: int = 500  # events per upload (contract max 1000)
    backoff_base_s: float = 1.0  # full-jitter backoff after a failed sync round
    backoff_cap_s: float = 60.0
    report_interval_s: float = 300.0  # with nothing to upload, tell the hub we are alive this often


class CheckpointService:
    def __init__(self, config: CheckpointConfig) -> None:
        if config.stale_policy not in ("refuse", "flag"):
            raise ValueError("stale_policy must be 'refuse' or 'flag'")
        self.config = config
        self.store = Store(Path(config.data_dir))
        self.clock = HybridClock(self.store.last_hlc())
        self.verifier = Verifier(self.store, accept_stale=config.stale_policy == "flag")
        self.decoder = DecoderChain()
        self._sync: SyncEngine | None = None
        self._sync_lock = threading.Lock()
        self._officer_cache: tuple[float, OfficerSession | None] | None = None
        self._want_sync = False

    # -- enrolment ---------------------------------------------------------------------------------
    def is_enrolled(self) -> bool:
        return self.store.device() is not None

    def enrol(self, enrolment_text: str) -> None:
        """Register this device with the hub from the enrolment QR text ("CPE1:...")."""
        enrolment.enrol(self.store, enrolment_text, self.config.device_name, hub_url=self.config.hub_url)
        self.verifier.reload()
        # Trust data is fetched right away while we know the hub is reachable; failures are
        # left to the sync thread, which retries with backoff.
        self._engine().refresh_trust_best_effort()
        self.verifier.reload()
        if self._want_sync:
            self._engine().start()

    # -- officer session -----------------------------------------------------------------------------
    def start_officer_login(self, name: str, mobile: str) -> int:
        """Returns the code's lifetime in seconds (the same answer whether or not they are on a roster)."""
        self._ensure_trust()
        return officer_login.start(self._client(), self._device_id(), name, mobile)

    def finish_officer_login(self, mobile: str, code: str) -> OfficerSession:
        self._ensure_trust()
        session = officer_login.finish(
            self._client(), self.store, self.verifier, self._device_id(), mobile, code
        )
        self._officer_cache = None
        return session

    def officer(self) -> OfficerSession | None:
        # Same clock floor as verdicts: turning the phone's clock back does not extend a shift.
        now = float(self.verifier.verdict_time(time.time()))
        cached = self._officer_cache
        # Re-verifying the COSE credential costs ~0.1 ms, but check_pass is on the hot path;
        # a one-second cache keeps it out of the frame budget while expiry stays exact below.
        if cached is None or now - cached[0] > 1.0:
            session = officer_login.current(self.store, self.verifier, now)
            self._officer_cache = (now, session)
        else:
            session = cached[1]
        if session is None or not session.valid_at(now):
            return None
        return session

    def logout(self) -> None:
        self.store.clear_officer()
        self._officer_cache = None

    # -- scanning ------------------------------------------------------------------------------------
    def decode_frame(self, frame: np.ndarray) -> list[str]:
        return self.decoder.decode(frame)

    def check_pass(self, text: str) -> ScanOutcome:
        device = self.store.device()
        if device is None:
            raise NotEnrolledError("not_enrolled")
        session = self.officer()
        if session is None:
            raise NoOfficerError("no_officer")
        now = time.time()
        hlc = self.clock.tick(now)
        verdict = self.verifier.check(text, self.verifier.verdict_time(now))
        claims = verdict.claims
        zh, en = reason_text(verdict.reason)
        event = NewEvent(
            scanned_at=now,
            hlc=hlc,
            ok=verdict.ok,
            reason=str(verdict.reason),
            pass_id=claims.pass_id.hex() if claims else None,
            officer_id=session.officer_id,
            issuer_kid=claims.issuer_kid.hex() if claims else None,
            serial=claims.serial if claims else None,
            trust_age_s=verdict.trust_age_s,
            stale=verdict.stale,
            holder_name=claims.holder_name if claims else None,
            masked_national_id=claims.masked_national_id if claims else None,
            org_name=claims.org_name if claims else None,
            kind=claims.kind if claims else None,
        )
        event_id, seq = self.store.append_event(event)  # committed with synchronous=FULL
        if self._sync is not None:
            self._sync.wake()
        return ScanOutcome(
            event_id=event_id,
            ok=verdict.ok,
            reason=verdict.reason,
            reason_text_zh=zh,
            reason_text_en=en,
            holder_name=claims.holder_name if claims else None,
            masked_national_id=claims.masked_national_id if claims else None,
            org_name=claims.org_name if claims else None,
            kind=claims.kind if claims else None,
            valid_until=claims.expires_at if claims else None,
            trust_age_s=verdict.trust_age_s,
            stale=verdict.stale,
            scanned_at=now,
            pass_id=claims.pass_id.hex() if claims else None,
            seq=seq,
        )

    def check_id(self, outcome: ScanOutcome, typed_id: str) -> IdCheck:
        return check_typed_id(outcome.masked_national_id, typed_id)

    def history(self, limit: int = 200) -> list[ScanRecord]:
        session = self.officer()
        since = session.not_before if session else time.time() - 12 * 3600
        return self.store.history(since=since, limit=limit)

    # -- sync ----------------------------------------------------------------------------------------
    def sync_status(self) -> SyncStatus:
        return self._engine().status() if self.is_enrolled() else self.store.sync_status(online=False)

    def start_sync(self) -> None:
        """Run sync in the background; asked before enrolment, it starts once enrolment is done."""
        self._want_sync = True
        if self.is_enrolled():
            self._engine().start()

    def stop_sync(self) -> None:
        self._want_sync = False
        with self._sync_lock:
            engine = self._sync
        if engine is not None:
            engine.stop()

    def sync_now(self) -> SyncReport:
        report = self._engine().sync_once()
        return report

    def close(self) -> None:
        self.stop_sync()
        self.store.close()

    # -- internals -----------------------------------------------------------------------------------
    def _ensure_trust(self) -> None:
        """The credential is checked against the bundle's issuer keys: have one before an SMS code is
        spent, or the officer would burn a code on a login this device cannot verify."""
        if self.verifier.trust is None:
            report = self._engine().refresh_trust_best_effort()
            if self.verifier.trust is None:
                log.warning("no trust data from the hub yet: %s", report.error or "unknown")
                raise HubUnavailableError("no_trust_yet")

    def _device_id(self) -> str:
        device = self.store.device()
        if device is None:
            raise NotEnrolledError("not_enrolled")
        return device.device_id

    def _client(self) -> HubClient:
        device = self.store.device()
        if device is None:
            raise NotEnrolledError("not_enrolled")
        return HubClient(self.config.hub_url or device.hub_url)

    def _engine(self) -> SyncEngine:
        with self._sync_lock:
            if self._sync is None:
                device = self.store.device()
                if device is None:
                    raise NotEnrolledError("not_enrolled")
                self._sync = SyncEngine(
                    self.store,
                    self.verifier,
                    self.clock,
                    hub_url=self.config.hub_url or device.hub_url,
                    interval_s=self.config.sync_interval_s,
                    batch_size=self.config.batch_size,
                    backoff_base_s=self.config.backoff_base_s,
                    backoff_cap_s=self.config.backoff_cap_s,
                    report_interval_s=self.config.report_interval_s,
                )
            return self._sync
