"""Prometheus metrics at /metrics (prometheus-client), correct with several worker processes.

With `checkpass hub serve --workers N` each worker is its own process, so counters and histograms go
through prometheus-client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` names a directory where every
process writes its values to memory-mapped files, and a scrape of any worker sums them all
(docs/deploy.md). `serve` sets that directory up before the workers start; without it (tests, the demo)
the values live in the one process, which is then the whole truth.

Trust data age is not a counter: it is read from the database at scrape time, so every worker reports
the same value without sharing anything.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "checkpass_http_request_duration_seconds",
    "Time from request to the response's first byte, by route template and status class.",
    ("method", "route", "status"),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REQUESTS_SHED = Counter(
    "checkpass_http_requests_shed_total",
    "Requests answered 503 at once because the worker already had its limit in flight.",
)
SMS_MESSAGES = Counter(
    "checkpass_sms_messages_total",
    "SMS handed to a gateway, by gateway and outcome (sent, refused by the provider, failed).",
    ("gateway", "outcome"),
)
SCAN_EVENTS = Counter(
    "checkpass_scan_events_total",
    "Checkpoint scan events received in batches, by what the hub answered.",
    ("status",),
)


def setup_multiprocess(directory: Path) -> None:
    """Before the workers start: an empty directory for their value files (stale files from an
    earlier run would be summed in) and the variable the workers inherit."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for leftover in directory.glob("*.db"):
        leftover.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)


class TrustAgeCollector(Collector):
    """`checkpass_trust_bundle_age_seconds` and `..._expires_in_seconds`, read at scrape time."""

    def __init__(self, read: Callable[[], tuple[int, int] | None]) -> None:
        self._read = read  # () -> (issued_at, valid_until) of the served bundle, or None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        served = self._read()
        age = GaugeMetricFamily(
            "checkpass_trust_bundle_age_seconds", "Seconds since the served trust bundle was signed."
        )
        left = GaugeMetricFamily(
            "checkpass_trust_bundle_expires_in_seconds",
            "Seconds until the served trust bundle expires (negative: expired).",
        )
        if served is not None:
            now = int(time.time())
            age.add_metric([], now - served[0])
            left.add_metric([], served[1] - now)
        yield age
        yield left


def render(trust: Callable[[], tuple[int, int] | None]) -> tuple[bytes, str]:
    """The scrape body: every worker's values (multiprocess) or this process's, plus trust age."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUEST_SECONDS, REQUESTS_SHED, SMS_MESSAGES, SCAN_EVENTS):
            registry.register(collector)
    registry.register(TrustAgeCollector(trust))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class CountingGateway:
    """An SMS gateway that counts what it sends; the SmsGateway interface, unchanged."""

    def __init__(self, inner: Any, name: str) -> None:
        self._inner = inner
        self._name = name

    def send(self, mobile_e164: str, text: str) -> Any:
        try:
            receipt = self._inner.send(mobile_e164, text)
        except Exception:
            SMS_MESSAGES.labels(self._name, "failed").inc()
            raise
        SMS_MESSAGES.labels(self._name, "sent" if receipt.accepted else "refused").inc()
        return receipt

    def __getattr__(self, name: str) -> Any:  # the dev gateways' extras (the file path, the outbox)
        return getattr(self._inner, name)


def count_scan_events_on_commit(db: Session, accepted: int, duplicates: int, rejected: int) -> None:
    """Count a batch's events when the caller's unit of work commits it: a rolled-back batch was
    not ingested."""

    def count(_session: Session) -> None:
        for status, n in (("accepted", accepted), ("duplicate", duplicates), ("rejected", rejected)):
            if n:
                SCAN_EVENTS.labels(status).inc(n)

    event.listen(db, "after_commit", count, once=True)
