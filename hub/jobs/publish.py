"""The published trust documents: signed once, stored in `signed_documents`, served by every worker.

A checkpoint's conditional GET of the bundle or a status list is the hub's most frequent request, so
serving one must cost a stat and a couple of indexed reads, not a signature (docs/deploy.md, "Where the
time went"). What the bundle says depends on two things only:

* the issuer keys' states and validity, in the key store's `keystore.json` (rewritten, never edited in
  place, by every rotation, compromise or activation, on this or another process);
* each issuer key's status-list counter, in the database (`issuer_keys.status_counter`).

Their fingerprint is stored with the signed bundle. A request recomputes the fingerprint cheaply (the
parsed key list is kept per `keystore.json` stat, the counters are one query) and re-signs only when it
moved or the stored bundle is past half its validity; the re-signing takes the stored row's write lock
first, so two workers never store an older bundle over a newer one and all serve the same bytes and
ETag. Full status lists are stored the same way, one row per issuer key, keyed by their counter.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.status import StatusList, sign_status_list
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle, sign_trust_bundle
from hub.context import context_of
from hub.models.trust import IssuerKeyRecord, SignedDocument, StatusEntry
from hub.services.errors import Unavailable
from hub.services.keys import keystore

BUNDLE_DOCUMENT = "trust_bundle"
NO_BUNDLE_HELP = (
    "the root key is offline and no trust bundle was imported: run `checkpass hub bundle request`, "
    "sign it offline with `checkpass bundle sign`, then `checkpass hub bundle import`"
)
STATUS_PREFIX = "status:"


@dataclass(frozen=True)
class KeyList:
    """The issuer keys as `keystore.json` lists them (status counters left at 0: the database has them)."""

    stamp: tuple[int, int, int]
    root_kid: bytes
    active: bytes | None
    issuers: tuple[IssuerKeyInfo, ...]

    @property
    def kids(self) -> frozenset[bytes]:
        return frozenset(info.kid for info in self.issuers)


_key_lists: dict[Path, KeyList] = {}
_key_lists_lock = threading.Lock()


def key_list(db: Session) -> KeyList:
    """The key store's issuer keys, re-read only when `keystore.json` was replaced or rewritten.

    Keyed by (inode, mtime, size): every writer replaces the file, so a change on disk by any process
    (a CLI rotation next to a running hub) shows at the next request. Derived data only; no state."""
    store = keystore(db)
    path = store.directory / "keystore.json"
    st = path.stat()
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _key_lists.get(path)
    if cached is not None and cached.stamp == stamp:
        return cached
    meta = store._read_meta()  # noqa: SLF001 - the store's own parser, without its status files
    issuers = tuple(
        IssuerKeyInfo(
            kid=bytes.fromhex(entry["kid"]),
            public_key=base64.b64decode(entry["public_key"]),
            state=KeyState(entry["state"]),
            not_before=entry["not_before"],
            not_after=entry["not_after"],
            status_counter=0,
        )
        for entry in meta["issuers"]
    )
    active = bytes.fromhex(meta["active"]) if meta.get("active") else None
    fresh = KeyList(stamp, bytes.fromhex(meta["root"]["kid"]), active, issuers)
    with _key_lists_lock:
        _key_lists[path] = fresh
    return fresh


# Built once: statement construction and the ORM's result machinery were most of a 304's cost. These
# run on the session's connection (Core), in the session's transaction.
_COUNTERS = select(IssuerKeyRecord.__table__.c.kid, IssuerKeyRecord.__table__.c.status_counter)
_DOCUMENTS = SignedDocument.__table__
_STORED_BUNDLE = select(_DOCUMENTS.c.fingerprint, _DOCUMENTS.c.issued_at, _DOCUMENTS.c.body).where(
    _DOCUMENTS.c.name == BUNDLE_DOCUMENT
)
_STORED_STATUS = select(_DOCUMENTS.c.issued_at, _DOCUMENTS.c.body).where(
    _DOCUMENTS.c.name == bindparam("name")
)


def counters(db: Session) -> dict[str, int]:
    """Every issuer key's status-list counter, in one query."""
    return {kid: int(n) for kid, n in db.connection().execute(_COUNTERS)}


def _content(db: Session, keys: KeyList, now: int) -> tuple[TrustBundle, str]:
    by_kid = counters(db)
    infos = tuple(dataclasses.replace(i, status_counter=by_kid.get(i.kid.hex(), 0)) for i in keys.issuers)
    fingerprint = hashlib.sha256(
        repr(
            [(i.kid, i.public_key, str(i.state), i.not_before, i.not_after, i.status_counter) for i in infos]
        ).encode()
    ).hexdigest()
    valid_seconds = context_of(db).settings.trust_bundle_valid_days * 86_400
    bundle = TrustBundle(
        issuer_keys=infos,
        issued_at=now,
        valid_until=now + valid_seconds,
        hub_time=now,
        root_kid=keys.root_kid,
    )
    return bundle, fingerprint


def _fresh(stored: Any, fingerprint: str, now: int, valid_seconds: int) -> bool:
    return (
        stored is not None
        and stored.fingerprint == fingerprint
        and now - stored.issued_at < valid_seconds // 2
    )


def served_bundle(db: Session) -> tuple[bytes, int]:
    """(signed bundle, issued_at) for a hub whose root key is on it: the stored bundle while it still
    says what the keys and counters say and is in the first half of its validity, else a new one."""
    now = int(time.time())
    keys = key_list(db)
    _bundle, fingerprint = _content(db, keys, now)
    valid_seconds = context_of(db).settings.trust_bundle_valid_days * 86_400
    stored = db.connection().execute(_STORED_BUNDLE).one_or_none()
    if _fresh(stored, fingerprint, now, valid_seconds):
        assert stored is not None
        return stored.body, stored.issued_at
    with _own_session(db) as own:
        published = publish_bundle(own)
    _expire(db, BUNDLE_DOCUMENT)
    return published


def trust_bundle(db: Session) -> tuple[bytes, int]:
    """(signed bundle, issued_at). Offline root: the imported bundle, as signed. Root on the hub:
    re-signed only when a key or a counter changed, or at half its validity, so an unchanged bundle
    keeps its ETag and devices fetch nothing."""
    if context_of(db).root_offline:
        stored = db.get(SignedDocument, BUNDLE_DOCUMENT)
        if stored is None:
            raise Unavailable(reason="no_trust_bundle", detail=NO_BUNDLE_HELP)
        return stored.body, stored.issued_at
    return served_bundle(db)  # signed once, stored, served by every worker


def _own_session(db: Session) -> Session:
    """A session of its own for storing a document: the stored documents are shared by every worker,
    not part of the caller's command, so a GET stores them and a refused command does not undo them."""
    return Session(bind=db.get_bind(), info=db.info)


def _expire(db: Session, name: str) -> None:
    """The caller's session may hold the row as it was before this publish: reload it on next use."""
    for obj in list(db.identity_map.values()):
        if isinstance(obj, SignedDocument) and obj.name == name:
            db.expire(obj)


def _lock_row(db: Session, name: str) -> SignedDocument | None:
    """The row `name`, write-locked for this transaction (PostgreSQL: row lock; SQLite: the database's
    write lock, taken by the no-op UPDATE), so reads after it see every earlier publisher's commit."""
    db.execute(update(SignedDocument).where(SignedDocument.name == name).values(name=SignedDocument.name))
    return db.get(SignedDocument, name, populate_existing=True, with_for_update=True)


def publish_bundle(db: Session, *, force: bool = False) -> tuple[bytes, int]:
    """Sign and store the bundle unless the stored one is still right (`force`: sign anyway, e.g. the
    re-signing job). Commits. The root key is needed: only for a hub whose root is on it."""
    valid_seconds = context_of(db).settings.trust_bundle_valid_days * 86_400
    try:
        stored = _lock_row(db, BUNDLE_DOCUMENT)
        now = int(time.time())
        bundle, fingerprint = _content(db, key_list(db), now)
        if not force and _fresh(stored, fingerprint, now, valid_seconds):
            assert stored is not None
            db.commit()
            return stored.body, stored.issued_at
        if stored is not None and stored.issued_at >= bundle.issued_at:
            # Two changes within one second: the ETag (issued_at) must still move.
            issued_at = stored.issued_at + 1
            bundle = dataclasses.replace(
                bundle, issued_at=issued_at, hub_time=issued_at, valid_until=issued_at + valid_seconds
            )
        body = sign_trust_bundle(bundle, keystore(db).root())
        if stored is None:
            db.add(
                SignedDocument(
                    name=BUNDLE_DOCUMENT, fingerprint=fingerprint, issued_at=bundle.issued_at, body=body
                )
            )
        else:
            stored.fingerprint, stored.issued_at, stored.body = fingerprint, bundle.issued_at, body
        db.commit()
        return body, bundle.issued_at
    except IntegrityError:
        # Another worker stored the first bundle at the same moment: serve that one.
        db.rollback()
        first = db.get(SignedDocument, BUNDLE_DOCUMENT, populate_existing=True)
        assert first is not None
        return first.body, first.issued_at


def status_list_of(db: Session, kid_hex: str) -> StatusList:
    """Issuer key `kid_hex`'s full status list, built from the database."""
    kid = bytes.fromhex(kid_hex)
    record = db.get(IssuerKeyRecord, kid_hex)
    size = record.next_serial if record is not None else 0
    serials = list(db.scalars(select(StatusEntry.serial).where(StatusEntry.kid == kid_hex)))
    size = max([size, *(s + 1 for s in serials)])
    sl = StatusList.empty(kid, size)
    for serial in serials:
        sl.bits[serial >> 3] |= 1 << (serial & 7)
    sl.counter = record.status_counter if record is not None else 0
    return sl


def served_status_list(db: Session, kid_hex: str, counter: int) -> tuple[bytes, int]:
    """(full signed status list of `kid_hex`, its counter) for `counter` or newer: stored once per
    counter, so a busy hub signs each list once per revocation, not once per download."""
    name = STATUS_PREFIX + kid_hex
    stored = db.connection().execute(_STORED_STATUS, {"name": name}).one_or_none()
    if stored is not None and stored.issued_at == counter:
        return stored.body, counter
    with _own_session(db) as own:
        published = _publish_status_list(own, kid_hex, name)
    _expire(db, name)
    return published


def _publish_status_list(db: Session, kid_hex: str, name: str) -> tuple[bytes, int]:
    try:
        stored = _lock_row(db, name)
        sl = status_list_of(db, kid_hex)
        if stored is not None and stored.issued_at >= sl.counter:
            # A racing worker published this counter (or a newer one) first: serve that one.
            db.commit()
            return stored.body, stored.issued_at
        body = sign_status_list(sl, keystore(db).issuer(bytes.fromhex(kid_hex)))
        digest = hashlib.sha256(body).hexdigest()
        if stored is None:
            db.add(SignedDocument(name=name, fingerprint=digest, issued_at=sl.counter, body=body))
        else:
            stored.fingerprint, stored.issued_at, stored.body = digest, sl.counter, body
        db.commit()
        return body, sl.counter
    except IntegrityError:
        db.rollback()
        first = db.get(SignedDocument, name, populate_existing=True)
        assert first is not None
        return first.body, first.issued_at
