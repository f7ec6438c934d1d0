"""Trust bundle and status lists as served to checkpoints (GET /trust/bundle, /trust/status/{kid}).

Revocation state lives in the database (status_entries): each revocation bumps the issuer key's
counter by one and records that counter, so a delta "since N" is simply the entries with counter > N.
Status lists are always signed here, by the issuer keys the hub holds: revoking a pass never needs
the root key.

Two ways to sign the trust bundle:

* **Root on the hub** (the default for `make demo` and a single machine): the hub decrypts root.key
  and re-signs the bundle whenever a key or a counter changes, or at half its validity.
* **Offline root** (production; on when `HUB_ROOT_OFFLINE=true` or the keys directory has no
  root.key, only root.pub): the hub never opens a root private key. It serves the newest bundle the
  operator signed on the offline machine and imported (`checkpass hub bundle import FILE` or
  `PUT /api/v1/trust/bundle`). An import is refused unless root.pub verifies it, it is newer than the
  served one, it is still valid, it lists the key the hub signs passes with as active, and none of
  its status counters is ahead of the hub's (a device holding the hub's list would otherwise answer
  NO_STATUS for every pass of that key). Older counters are harmless: a device's list is then newer
  than the bundle asks for.

The offline ceremony, like a certificate signing request (issuer private keys never leave the hub,
the root private key never reaches it):

1. on the hub: `checkpass hub bundle request --out req.cbor` (or GET /api/v1/trust/bundle/request)
   writes the unsigned list of the hub's issuer public keys, states and status counters;
2. on the offline machine: `checkpass bundle sign --keys ROOTDIR --request req.cbor --out trust.cbor`
   shows the keys and signs them with the root key;
3. on the hub: `checkpass hub bundle import trust.cbor` (or PUT /api/v1/trust/bundle).

Run it before the served bundle expires (GET /api/v1/trust/health counts down). A key rotation is
the same ceremony: `checkpass hub keys rotate` prepares a new issuer key (hub.services.keys) and
writes the request, which lists the current key and the new one, both active. The hub keeps signing
with the current key until the bundle is imported, then switches and retires the old key locally;
the next bundle lists it as retired from that moment. Until then devices accept both keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import kid_of
from crypto.status import StatusDelta, StatusList, sign_status_delta
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle, load_trust_bundle
from hub.context import context_of
from hub.core.clock import taipei_label
from hub.jobs import public_files, publish
from hub.jobs.publish import NO_BUNDLE_HELP, trust_bundle
from hub.models.identity import User
from hub.models.trust import IssuerKeyRecord, SignedDocument, StatusEntry
from hub.services import audit
from hub.services.errors import Conflict, DomainError, Invalid, NotFound, Rejected
from hub.services.keys import ensure_issuer_record, keystore
from provisioning.export import BundleRequest, build_request, export_bundle_bytes

BUNDLE_DOCUMENT = publish.BUNDLE_DOCUMENT
# Health turns to "renew_soon" this long before the served bundle expires (or in its last quarter, for a
# bundle shorter than 8 days), so the operator has time for the offline ceremony before devices start
# flagging STALE.
RENEW_WARNING_SECONDS = 2 * 86_400


@dataclass(frozen=True)
class StatusDocument:
    body: bytes
    counter: int
    kind: str  # "full" or "delta"


def status_counter(db: Session, kid_hex: str) -> int:
    return int(db.scalar(select(IssuerKeyRecord.status_counter).where(IssuerKeyRecord.kid == kid_hex)) or 0)


def revoke_serial(db: Session, kid_hex: str, serial: int) -> int:
    """Mark `serial` revoked (in the caller's transaction); returns the new counter. Idempotent."""
    existing = db.get(StatusEntry, (kid_hex, serial))
    if existing is not None:
        return status_counter(db, kid_hex)
    ensure_issuer_record(db, kid_hex)
    counter = db.execute(
        update(IssuerKeyRecord)
        .where(IssuerKeyRecord.kid == kid_hex)
        .values(status_counter=IssuerKeyRecord.status_counter + 1)
        .returning(IssuerKeyRecord.status_counter)
    ).scalar_one()
    db.add(StatusEntry(kid=kid_hex, serial=serial, counter=int(counter)))
    db.flush()
    public_files.after_commit(db)
    return int(counter)


def known_kid(db: Session, kid_hex: str) -> bytes:
    try:
        kid = bytes.fromhex(kid_hex)
    except ValueError:
        kid = b""
    if len(kid) != 8 or kid_hex != kid_hex.lower():
        raise Invalid(reason="bad_kid", detail="kid is 16 lowercase hex digits")
    if kid not in publish.key_list(db).kids:
        raise NotFound(reason="unknown_key", detail="no issuer key with this kid")
    return kid


def status_list(db: Session, kid_hex: str) -> StatusList:
    """A known issuer key's full status list (built once, by the publisher: `publish.status_list_of`)."""
    known_kid(db, kid_hex)
    return publish.status_list_of(db, kid_hex)


def status_document(db: Session, kid_hex: str, since: int | None) -> StatusDocument:
    """The full signed list, or a signed delta from counter `since` when the hub can give one."""
    kid = known_kid(db, kid_hex)
    key = keystore(db).issuer(kid)
    counter = status_counter(db, kid_hex)
    if since is not None and 0 <= since <= counter:
        serials = db.scalars(
            select(StatusEntry.serial)
            .where(StatusEntry.kid == kid_hex, StatusEntry.counter > since, StatusEntry.counter <= counter)
            .order_by(StatusEntry.serial)
        )
        delta = StatusDelta(issuer_kid=kid, from_counter=since, to_counter=counter, serials=tuple(serials))
        return StatusDocument(sign_status_delta(delta, key), counter, "delta")
    body, counter = publish.served_status_list(db, kid_hex, counter)  # signed once per counter
    return StatusDocument(body, counter, "full")


# ---- offline root: request, import, health, rotation ------------------------------------------
def _require_offline(db: Session) -> None:
    if not context_of(db).root_offline:
        raise Conflict(
            reason="root_online",
            detail="this hub holds the root key and signs its own bundle; importing is for a hub whose root "
            "is offline (remove root.key from its keys directory or set HUB_ROOT_OFFLINE=true)",
        )


def _hub_key_infos(db: Session) -> list[IssuerKeyInfo]:
    """The hub's issuer keys as a bundle should list them: states from the KeyStore, counters from
    the database (the hub's status lists), plus the pending key of a rotation."""
    store = keystore(db)
    infos = [
        dataclasses.replace(info, status_counter=status_counter(db, info.kid.hex()))
        for info in store.issuers()
    ]
    pending = store.pending_info()
    if pending is not None:
        infos.append(pending)
    return infos


def bundle_request(db: Session, valid_days: int | None = None) -> bytes:
    """The unsigned bundle content the offline root should sign (see the module docstring)."""
    _require_offline(db)
    ctx = context_of(db)
    store = keystore(db)
    return build_request(
        BundleRequest(
            root_kid=kid_of(store.root_public_key()),
            issuer_keys=tuple(_hub_key_infos(db)),
            made_at=int(time.time()),
            valid_days=valid_days or ctx.settings.trust_bundle_valid_days,
            hub=ctx.settings.base_url,
        )
    )


@dataclass(frozen=True)
class ImportResult:
    imported: bool  # False: this very bundle was already being served
    issued_at: int
    valid_until: int
    active_kid: str
    activated_kid: str | None  # a pending key this bundle made the active issuer key


def _load_offered(db: Session, data: bytes) -> TrustBundle:
    root_public = keystore(db).root_public_key()
    try:
        return load_trust_bundle(export_bundle_bytes(data), root_public)
    except CryptoError as exc:
        raise Rejected(
            reason="bad_bundle",
            detail=f"not a trust bundle signed by this hub's root "
            f"key (root kid {kid_of(root_public).hex()}): {exc}",
        ) from None


def _check_offered(db: Session, bundle: TrustBundle, now: int) -> tuple[str, str | None]:
    """Refuse a bundle the devices could not work with; returns (active kid, pending kid to activate)."""
    if now >= bundle.valid_until:
        raise Rejected(
            reason="bundle_expired", detail=f"this bundle expired at {taipei_label(bundle.valid_until)}"
        )
    store = keystore(db)
    listed = {info.kid: info for info in bundle.issuer_keys}

    def usable(kid: bytes) -> bool:
        info = listed.get(kid)
        return info is not None and info.state is KeyState.ACTIVE and info.not_after is None

    pending = store.pending_kid()
    active = store.active_kid()
    to_activate = pending if pending is not None and usable(pending) else None
    signing = to_activate or active
    if not usable(signing):
        raise Conflict(
            reason="bundle_lacks_active_key",
            detail=f"the bundle does not list issuer key {signing.hex()}, "
            f"which this hub signs passes with, as "
            "active: devices would refuse new passes. Sign a fresh `checkpass hub bundle request`.",
        )
    for held in store.issuers():
        # Every key the hub ever signed with stays listed, retired no earlier than the hub stopped
        # using it: otherwise passes already handed out would turn unknown_key or key_retired.
        info = listed.get(held.kid)
        if info is None:
            raise Conflict(
                reason="bundle_drops_key",
                detail=f"the bundle does not list issuer key {held.kid.hex()}: "
                f"passes it signed would be refused. "
                "Sign a fresh `checkpass hub bundle request`.",
            )
        cut = info.not_after if info.state is not KeyState.COMPROMISED else None
        if cut is not None and (held.not_after is None or cut < held.not_after):
            raise Conflict(
                reason="bundle_retires_key_early",
                detail=f"the bundle retires issuer key {held.kid.hex()} "
                f"at {taipei_label(cut)}, before the hub stopped "
                "signing with it: passes issued since would be refused. "
                "Sign a fresh `checkpass hub bundle request`.",
            )
        if info.status_counter > status_counter(db, held.kid.hex()):
            raise Conflict(
                reason="bundle_counters_ahead",
                detail=f"the bundle says issuer key {held.kid.hex()} "
                f"has status counter {info.status_counter}, "
                f"the hub's list is at {status_counter(db, held.kid.hex())}: devices would answer "
                "no_status for its passes. Sign a fresh `checkpass hub bundle request`.",
            )
    return signing.hex(), to_activate.hex() if to_activate is not None else None


def import_bundle(
    db: Session, data: bytes, *, actor: User | None = None, client_ip: str | None = None, via: str = "api"
) -> ImportResult:
    """Verify and store a root-signed bundle for an offline-root hub; audited. a DomainError, nothing
    changed, when it cannot be served (see the module docstring)."""
    _require_offline(db)
    bundle = _load_offered(db, data)
    body = export_bundle_bytes(data)
    now = int(time.time())
    active_kid, activate = _check_offered(db, bundle, now)
    public_files.after_commit(db)
    current = db.get(SignedDocument, BUNDLE_DOCUMENT, with_for_update=True)
    if current is not None:
        if current.body == body:
            return ImportResult(False, bundle.issued_at, bundle.valid_until, active_kid, None)
        if bundle.issued_at <= current.issued_at:
            raise Conflict(
                reason="bundle_not_newer",
                detail=f"the served bundle was issued {taipei_label(current.issued_at)}, "
                f"this one {taipei_label(bundle.issued_at)}: "
                "only a newer bundle replaces it (devices tell bundles apart by that second)",
            )
        current.fingerprint, current.issued_at, current.body = _digest(body), bundle.issued_at, body
    else:
        db.add(
            SignedDocument(
                name=BUNDLE_DOCUMENT, fingerprint=_digest(body), issued_at=bundle.issued_at, body=body
            )
        )
    audit.record(
        db,
        "trust.bundle_imported",
        actor=actor,
        client_ip=client_ip,
        target=f"bundle:{bundle.issued_at}",
        via=via,
        issued_at=bundle.issued_at,
        valid_until=bundle.valid_until,
        issuer_keys=[f"{info.kid.hex()}:{info.state}:{info.status_counter}" for info in bundle.issuer_keys],
        activated_kid=activate,
    )
    try:
        db.flush()
    except IntegrityError:
        # Another hub process stored a first bundle at the same moment: let the operator retry.
        raise Conflict(
            reason="bundle_import_conflict", detail="another import ran at the same time; try again"
        ) from None
    # Only once the bundle listing it is served (committed) does the hub sign with the new key; if that
    # step failed the bundle still lists the current key as active, so nothing a device sees breaks.
    if activate is not None:
        info = next(i for i in bundle.issuer_keys if i.kid.hex() == activate)
        ensure_issuer_record(db, activate)
        store = keystore(db)
        event.listen(
            db, "after_commit", lambda _s: store.activate_pending(info.kid, info.not_before), once=True
        )
    return ImportResult(True, bundle.issued_at, bundle.valid_until, active_kid, activate)


@dataclass(frozen=True)
class TrustHealth:
    root: str  # "offline" or "online"
    state: str  # "ok", "renew_soon", "expired" or "missing"
    issued_at: int | None
    valid_until: int | None
    expires_in_s: int | None
    active_kid: str
    active_key_listed: bool  # the bundle lists the key the hub signs with as active
    pending_kid: str | None
    action: str | None  # what the operator should do, when anything

    @property
    def healthy(self) -> bool:
        return self.state in ("ok", "renew_soon") and self.active_key_listed


def trust_health(db: Session, now: int | None = None) -> TrustHealth:
    """How long the served bundle stays valid, and what to do about it."""
    now = int(time.time()) if now is None else now
    ctx = context_of(db)
    store = keystore(db)
    offline = ctx.root_offline
    active = store.active_kid()
    pending = store.pending_kid()
    try:
        body, _issued = trust_bundle(db)
    except DomainError:
        body = None
    if body is None:
        return TrustHealth(
            "offline" if offline else "online", "missing", None, None, None, active.hex(), False,
            pending.hex() if pending else None, NO_BUNDLE_HELP,
        )  # fmt: skip
    bundle = load_trust_bundle(body, store.root_public_key())
    remaining = bundle.valid_until - now
    listed = any(i.kid == active and i.state is KeyState.ACTIVE for i in bundle.issuer_keys)
    warn_at = min(RENEW_WARNING_SECONDS, (bundle.valid_until - bundle.issued_at) // 4)
    state = "expired" if remaining <= 0 else "renew_soon" if remaining < warn_at else "ok"
    # A key the hub has retired (after a rotation) that the served bundle still calls active: devices
    # keep accepting passes it might sign until a bundle says otherwise.
    retired_here = {i.kid for i in store.issuers() if i.state is not KeyState.ACTIVE}
    unrecorded = sorted(
        i.kid.hex() for i in bundle.issuer_keys if i.kid in retired_here and i.state is KeyState.ACTIVE
    )
    action = None
    if offline and (state != "ok" or pending is not None or not listed or unrecorded):
        if state == "expired":
            why = "the bundle has expired: devices flag or refuse verdicts"
        elif state == "renew_soon":
            why = f"the bundle expires {taipei_label(bundle.valid_until)}"
        elif pending is not None or not listed:
            why = f"issuer key {pending.hex() if pending else active.hex()} waits for a bundle"
        else:
            why = f"the bundle still lists retired issuer key {', '.join(unrecorded)} as active"
        action = (
            f"{why}; run `checkpass hub bundle request`, sign it offline with `checkpass bundle sign`, "
            "then `checkpass hub bundle import`"
        )
    return TrustHealth(
        "offline" if offline else "online", state, bundle.issued_at, bundle.valid_until, remaining,
        active.hex(), listed, pending.hex() if pending else None, action,
    )  # fmt: skip


@dataclass(frozen=True)
class Rotation:
    new_kid: str
    pending: bool  # True: waits for an imported bundle (offline root); False: active now
    request: bytes | None  # the bundle request to sign offline, when pending


def rotate_issuer(db: Session, *, actor: User | None = None, via: str = "cli") -> Rotation:
    """A new issuer key. Root on the hub: active at once (the bundle re-signs itself). Offline root:
    prepared, with the bundle request that must be signed and imported before it is used."""
    store = keystore(db)
    public_files.after_commit(db)
    if context_of(db).root_offline:
        key = store.prepare_issuer()
        audit.record(db, "trust.issuer_prepared", actor=actor, target=f"key:{key.kid.hex()}", via=via)
        return Rotation(key.kid.hex(), True, bundle_request(db))
    key = store.rotate()
    ensure_issuer_record(db, key.kid.hex())
    audit.record(db, "trust.issuer_rotated", actor=actor, target=f"key:{key.kid.hex()}", via=via)
    return Rotation(key.kid.hex(), False, None)


@dataclass(frozen=True)
class Compromise:
    kid: str  # the key now refused
    active_kid: str  # the key that signs passes from now on (a new one if the refused key was active)


def mark_compromised(
    db: Session, kid_hex: str, *, reason: str, actor: User | None = None, via: str = "cli"
) -> Compromise:
    """Refuse everything issuer key `kid_hex` ever signed: the next bundle lists it as compromised, so
    every device rejects its passes. If it was the active key a new one takes over at once.

    Only with the root key on the hub: the bundle that tells devices must be signed by the root. With
    an offline root the key is marked in the ceremony on the offline machine and that bundle imported."""
    if context_of(db).root_offline:
        raise Conflict(
            reason="root_offline",
            detail="the root key is offline: mark the key compromised on the offline machine "
            "(checkpass keys compromise) and import the signed bundle",
        )
    reason = reason.strip()
    if not reason:
        raise Invalid(reason="reason_required", detail="say why the key is compromised", field="reason")
    kid = known_kid(db, kid_hex)
    store = keystore(db)
    state = next(info.state for info in store.issuers() if info.kid == kid)
    if state is KeyState.COMPROMISED:
        raise Conflict(reason="already_compromised", detail="this key is already marked compromised")
    store.mark_compromised(kid)
    public_files.after_commit(db)
    active = store.active_kid().hex()
    ensure_issuer_record(db, active)
    audit.record(
        db,
        "trust.issuer_compromised",
        actor=actor,
        target=f"key:{kid_hex}",
        via=via,
        reason=reason[:200],
        active_kid=active,
    )
    return Compromise(kid_hex, active)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
