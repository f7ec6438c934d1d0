"""Liveness and readiness for a load balancer, and the trust data they report (docs/deploy.md).

* `GET /healthz` (liveness): 200 while the process answers and reaches its database, with the served
  trust bundle's state for monitoring. A load balancer must not take a worker out for a trust problem
  every worker shares, so this stays 200 when the bundle is missing or expired.
* `GET /readyz` (readiness): 200 only when the database answers **and** the trust data is valid (a
  bundle is served, not expired, and lists the key the hub signs with as active); 503 otherwise, so a
  new machine joins the pool only once checkpoints could use what it serves.

Both run on every probe of every worker, so they cost what a 304 does: the stored bundle (one indexed
read, hub.jobs.publish) and its parsed form, kept per bundle body (the signature is checked once per
bundle, not per probe).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crypto.trust import KeyState, TrustBundle, load_trust_bundle
from hub.api.routing import APIRouter
from hub.errors import HubError
from hub.jobs import publish
from hub.services import trust
from hub.services.errors import DomainError
from hub.services.keys import keystore
from provisioning.keystore import KeyStoreError

router = APIRouter(tags=["health"])


@dataclass(frozen=True)
class TrustState:
    state: str  # "ok", "renew_soon", "expired" or "missing"
    issued_at: int | None
    valid_until: int | None
    expires_in_s: int | None
    active_key_listed: bool

    @property
    def usable(self) -> bool:
        return self.state in ("ok", "renew_soon") and self.active_key_listed


_parsed: dict[str, tuple[bytes, TrustBundle]] = {}
_parsed_lock = threading.Lock()


def _parse(db: Session, body: bytes) -> TrustBundle:
    key = str(keystore(db).directory)
    cached = _parsed.get(key)
    if cached is not None and cached[0] == body:
        return cached[1]
    bundle = load_trust_bundle(body, keystore(db).root_public_key())
    with _parsed_lock:
        _parsed[key] = (body, bundle)
    return bundle


def trust_state(db: Session, now: int | None = None) -> TrustState:
    """The served bundle's state, as hub.services.trust.trust_health judges it, for every probe."""
    now = int(time.time()) if now is None else now
    try:
        body, _issued = trust.trust_bundle(db)
        bundle = _parse(db, body)
        active = publish.key_list(db).active
    except (HubError, DomainError, KeyStoreError, OSError):
        # No bundle, or no key store to judge it by (locked, not made yet): nothing usable is served.
        return TrustState("missing", None, None, None, False)
    listed = any(i.kid == active and i.state is KeyState.ACTIVE for i in bundle.issuer_keys)
    remaining = bundle.valid_until - now
    warn_at = min(trust.RENEW_WARNING_SECONDS, (bundle.valid_until - bundle.issued_at) // 4)
    state = "expired" if remaining <= 0 else "renew_soon" if remaining < warn_at else "ok"
    return TrustState(state, bundle.issued_at, bundle.valid_until, remaining, listed)


def served_validity(db: Session) -> tuple[int, int] | None:
    """(issued_at, valid_until) of the served bundle, for the metrics; None when there is none."""
    state = trust_state(db)
    if state.issued_at is None or state.valid_until is None:
        return None
    return state.issued_at, state.valid_until


def _probe(request: Request) -> tuple[str, TrustState | None]:
    engine = request.app.state.engine
    try:
        with request.app.state.sessionmaker() as db:
            return engine.dialect.name, trust_state(db)
    except SQLAlchemyError:
        return engine.dialect.name, None


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Liveness: 200 while the database answers; the trust bundle's state is reported, not judged."""
    database, state = _probe(request)
    if state is None:
        return JSONResponse({"status": "down", "database": database, "reason": "database"}, status_code=503)
    return JSONResponse(
        {"status": "ok", "database": database, "trust": state.state, "trust_expires_in_s": state.expires_in_s}
    )


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers and the trust data is valid, else 503 with why."""
    database, state = _probe(request)
    if state is None:
        return JSONResponse({"ready": False, "database": database, "reason": "database"}, status_code=503)
    body = {
        "ready": state.usable,
        "database": database,
        "trust": state.state,
        "trust_expires_in_s": state.expires_in_s,
        "active_key_listed": state.active_key_listed,
    }
    if not state.usable:
        body["reason"] = "trust"
    return JSONResponse(body, status_code=200 if state.usable else 503)
