"""The audit log as a transparency log (docs/audit-log.md): every audit event is a leaf of an RFC 9162
Merkle tree (crypto.merkle), and the hub signs the tree's head with a log key of its own.

* `sign_head` (the job `audit_log.heads`, every `HUB_AUDIT_LOG_HEAD_SECONDS`): appends the events
  written since the last head as leaves, in order of id, signs the new head and stores the consistency
  proof from the head before it. Only the new events are read: the stored frontier stands for the rest.
* `purge_prefix` (called by the retention purge): deletes the events older than the retention period,
  up to the newest head that holds only such events, and signs a purge record with that head's
  frontier, so the events that remain still rebuild every later head. The database lets an audit row
  go only when such a record covers it (migration 0010).
* `export_log` and `inclusion_proof` write what `checkpass audit verify` checks offline
  (hub.services.transparency_check); `published` is what GET /api/v1/trust/audit-log serves.

Leaves are in order of id. On SQLite the job holds the database's one write lock, so every lower id is
committed; on PostgreSQL it first takes a SHARE lock on audit_events, which waits for every transaction
still inserting into it (their ids were drawn before it) and holds off new ones until the head is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from crypto.keys import KeyPair, decrypt_private_key, encrypt_private_key, kid_of
from crypto.merkle import (
    Frontier,
    PurgeRecord,
    TreeHead,
    TreeView,
    leaf_hash,
    sign_purge,
    sign_tree_head,
)
from hub.context import context_of
from hub.core.config import Settings
from hub.models.audit import AuditEvent, AuditLeaf, AuditLogPurge, AuditTreeHead
from hub.services import audit
from hub.services.errors import NotFound, Unavailable
from provisioning.files import locked, write_private

log = logging.getLogger(__name__)

KEY_FILE = "audit-log.key"
PUBLIC_KEY_FILE = "audit-log.pub"
EXPORT_FORMAT = "checkpass-audit-export-v1"
PROOF_FORMAT = "checkpass-audit-proof-v1"
HEADS_PAGE = 1000

# ---- the leaf: one audit event's bytes ------------------------------------------------------------

# The fields of an event that its leaf holds, fixed for leaf version 1: a column added to audit_events
# later is not covered until a version 2 says how old leaves read. The row id is not among them: a
# leaf's place in the log is its leaf index, which every proof carries, while ids are storage that a
# database administrator could renumber (the verifier matches entries by content and position).
LEAF_VERSION = 1
_EVENT = AuditEvent.__table__
_LEAF_COLUMNS = (
    _EVENT.c.at,
    _EVENT.c.actor_user_id,
    _EVENT.c.actor_role,
    _EVENT.c.action,
    _EVENT.c.target,
    _EVENT.c.details,
    _EVENT.c.client_ip,
)


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_bytes(
    at: dt.datetime,
    actor_user_id: int | None,
    actor_role: str | None,
    action: str,
    target: str | None,
    details: dict[str, Any] | None,
    client_ip: str | None,
) -> bytes:
    """The canonical bytes of one audit event: JSON, keys sorted, no spaces, UTF-8 (one byte string
    per event, whatever dialect stored it)."""
    doc = {
        "v": LEAF_VERSION,
        "at": _instant(at),
        "actor_user_id": actor_user_id,
        "actor_role": actor_role,
        "action": action,
        "target": target,
        "details": details or {},
        "client_ip": client_ip,
    }
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def event_bytes(event: AuditEvent) -> bytes:
    return entry_bytes(
        event.at,
        event.actor_user_id,
        event.actor_role,
        event.action,
        event.target,
        event.details,
        event.client_ip,
    )


# ---- the log key ---------------------------------------------------------------------------------
# Its own Ed25519 key, beside the issuer keys in keys_dir and under the same passphrase: a log head must
# not be something a pass-signing key can also make, and the log key must not open anything else.

_keys: dict[tuple[Path, int, int], KeyPair] = {}
_keys_lock = threading.Lock()


def log_public_key(keys_dir: Path) -> bytes:
    """The log's public key from audit-log.pub (no passphrase needed). Unavailable if not made yet."""
    try:
        return base64.b64decode((Path(keys_dir) / PUBLIC_KEY_FILE).read_bytes().strip(), validate=True)
    except FileNotFoundError:
        detail = "no audit log key yet (the first tree head makes it)"
        raise Unavailable(reason="no_log_key", detail=detail) from None
    except ValueError:
        raise Unavailable(reason="no_log_key", detail=f"{PUBLIC_KEY_FILE} is damaged") from None


def log_key(settings: Settings) -> KeyPair:
    """The log's signing key, made on first use (under the key store's lock, so two processes that
    both find none make one). Unavailable when no passphrase is configured."""
    passphrase = settings.passphrase()
    if passphrase is None:
        raise Unavailable(reason="keys_locked", detail="no key passphrase configured (HUB_KEY_PASSPHRASE)")
    directory = Path(settings.keys_dir)
    path = directory / KEY_FILE
    if not path.exists():
        with locked(directory / ".lock"):
            if not path.exists():
                key = KeyPair.generate()
                write_private(path, encrypt_private_key(key, passphrase))
                write_private(directory / PUBLIC_KEY_FILE, base64.b64encode(key.public_key) + b"\n")
                log.info("made the audit log key %s", key.kid.hex())
    st = path.stat()
    stamp = (path, st.st_ino, st.st_mtime_ns)
    key = _keys.get(stamp)
    if key is None:
        key = decrypt_private_key(path.read_bytes(), passphrase)  # an argon2id derivation: once
        with _keys_lock:
            _keys[stamp] = key
    return key


# ---- JSON forms of the signed statements (route, export, proof) -----------------------------------


def head_json(head: AuditTreeHead) -> dict[str, Any]:
    proof = head.consistency or b""
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "timestamp": head.timestamp,
        "kid": head.kid,
        "signature": base64.b64encode(head.signature).decode("ascii"),
        "previous_size": head.previous_size,
        "consistency": [proof[i : i + 32].hex() for i in range(0, len(proof), 32)],
    }


def head_of_json(doc: dict[str, Any], *, with_proof: bool = True) -> tuple[TreeHead, int | None, list[bytes]]:
    """(signed head, previous head's size, consistency proof from it; [] unless `with_proof`).
    ValueError/KeyError/TypeError on a malformed document."""
    head = TreeHead(
        tree_size=int(doc["tree_size"]),
        root_hash=bytes.fromhex(doc["root_hash"]),
        timestamp=int(doc["timestamp"]),
        kid=bytes.fromhex(doc["kid"]),
        signature=base64.b64decode(doc["signature"], validate=True),
    )
    previous = doc.get("previous_size")
    proof = [bytes.fromhex(h) for h in doc["consistency"]] if with_proof else []
    return head, None if previous is None else int(previous), proof


def purge_json(record: AuditLogPurge) -> dict[str, Any]:
    frontier = record.frontier
    return {
        "tree_size": record.tree_size,
        "timestamp": record.timestamp,
        "kid": record.kid,
        "signature": base64.b64encode(record.signature).decode("ascii"),
        "frontier": [frontier[i : i + 32].hex() for i in range(0, len(frontier), 32)],
    }


def purge_of_json(doc: dict[str, Any]) -> PurgeRecord:
    frontier = Frontier(int(doc["tree_size"]), tuple(bytes.fromhex(h) for h in doc["frontier"]))
    return PurgeRecord(
        frontier=frontier,
        timestamp=int(doc["timestamp"]),
        kid=bytes.fromhex(doc["kid"]),
        signature=base64.b64decode(doc["signature"], validate=True),
    )


# ---- reading the log's state ----------------------------------------------------------------------


def latest_head(db: Session) -> AuditTreeHead | None:
    return db.scalars(select(AuditTreeHead).order_by(AuditTreeHead.tree_size.desc()).limit(1)).first()


def latest_purge(db: Session) -> AuditLogPurge | None:
    return db.scalars(select(AuditLogPurge).order_by(AuditLogPurge.tree_size.desc()).limit(1)).first()


def _purged_frontier(db: Session) -> Frontier:
    record = latest_purge(db)
    return Frontier() if record is None else Frontier.from_bytes(record.tree_size, record.frontier)


def _leaf_hashes(db: Session, first: int, end: int) -> list[bytes]:
    table = AuditLeaf.__table__
    rows = db.execute(
        select(table.c.leaf_hash)
        .where(table.c.leaf_index >= first, table.c.leaf_index < end)
        .order_by(table.c.leaf_index)
    )
    return [bytes(h) for (h,) in rows]


def _view(db: Session, size: int) -> TreeView:
    prefix = _purged_frontier(db)
    return TreeView(_leaf_hashes(db, prefix.size, size), prefix)


# ---- signing heads (the job) ----------------------------------------------------------------------


def _hold_off_writers(db: Session) -> None:
    """PostgreSQL: wait for every transaction still inserting audit events, and keep new ones out until
    this transaction ends, so that no event with a lower id than those read here commits later."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL lock_timeout = '5s'"))
        db.execute(text("LOCK TABLE audit_events IN SHARE MODE"))


def sign_head(db: Session, *, now: int | None = None) -> AuditTreeHead | None:
    """Append the events since the last head and sign the new head, in the caller's transaction (the
    job runner commits it). None when no event was written since: the last head still holds."""
    key = log_key(context_of(db).settings)
    _hold_off_writers(db)
    last = latest_head(db)
    after = last.last_event_id if last is not None else 0
    rows = db.execute(
        select(_EVENT.c.id, *_LEAF_COLUMNS).where(_EVENT.c.id > after).order_by(_EVENT.c.id)
    ).all()
    if not rows:
        return None
    leaves = [leaf_hash(entry_bytes(*row[1:])) for row in rows]
    old = Frontier() if last is None else Frontier.from_bytes(last.tree_size, last.frontier)
    db.execute(
        insert(AuditLeaf.__table__),
        [
            {"leaf_index": old.size + i, "event_id": row[0], "leaf_hash": h}
            for i, (row, h) in enumerate(zip(rows, leaves, strict=True))
        ],
    )
    new = old.extend(leaves)
    proof = TreeView(leaves, old).consistency_proof(old.size) if old.size else []
    timestamp = int(time.time()) if now is None else now
    if last is not None and timestamp <= last.timestamp:
        timestamp = last.timestamp + 1  # heads are ordered by time as well as by size
    signed = sign_tree_head(new.size, new.root(), timestamp, key)
    head = AuditTreeHead(
        tree_size=new.size,
        root_hash=signed.root_hash,
        timestamp=timestamp,
        kid=key.kid.hex(),
        signature=signed.signature,
        frontier=new.to_bytes(),
        previous_size=last.tree_size if last is not None else None,
        consistency=b"".join(proof),
        last_event_id=rows[-1][0],
    )
    db.add(head)
    db.flush()
    return head


# ---- retention -------------------------------------------------------------------------------------


def purge_prefix(db: Session, *, cutoff: dt.datetime) -> int:
    """Delete the events older than `cutoff` that a signed head covers, up to the newest head that holds
    nothing newer; sign the purge and audit it. Returns how many events went (0 when none could).

    Without the log key (no passphrase, e.g. `checkpass hub purge` run without one) nothing goes: an
    unsigned purge would be indistinguishable from a database administrator's deletion."""
    settings = context_of(db).settings
    leaves, events = AuditLeaf.__table__, _EVENT
    first_young = db.scalar(
        select(func.min(leaves.c.leaf_index))
        .select_from(leaves.join(events, events.c.id == leaves.c.event_id))
        .where(events.c.at >= cutoff)
    )
    if first_young is None:
        first_young = db.scalar(select(func.max(leaves.c.leaf_index) + 1)) or 0
    done = latest_purge(db)
    done_size = done.tree_size if done is not None else 0
    head = db.scalars(
        select(AuditTreeHead)
        .where(AuditTreeHead.tree_size <= first_young, AuditTreeHead.tree_size > done_size)
        .order_by(AuditTreeHead.tree_size.desc())
        .limit(1)
    ).first()
    if head is None:
        return 0
    try:
        key = log_key(settings)
    except Unavailable as exc:
        log.warning("audit log not purged: %s", exc.detail)
        return 0
    frontier = Frontier.from_bytes(head.tree_size, head.frontier)
    record = sign_purge(frontier, int(time.time()), key)
    db.add(
        AuditLogPurge(
            tree_size=frontier.size,
            timestamp=record.timestamp,
            kid=key.kid.hex(),
            signature=record.signature,
            frontier=frontier.to_bytes(),
        )
    )
    db.flush()
    purged = select(leaves.c.event_id).where(leaves.c.leaf_index < frontier.size)
    count = db.execute(delete(events).where(events.c.id.in_(purged))).rowcount or 0
    db.execute(delete(leaves).where(leaves.c.leaf_index < frontier.size))
    # Heads before it can no longer be rebuilt from what is kept; the one at the purge stays.
    db.execute(delete(AuditTreeHead).where(AuditTreeHead.tree_size < frontier.size))
    audit.record(
        db,
        "audit_log.purged",
        leaves=frontier.size - done_size,
        events=count,
        through_size=frontier.size,
        root_hash=frontier.root().hex(),
        cutoff=cutoff.isoformat(),
    )
    return count


# ---- what is published and exported --------------------------------------------------------------


def published(db: Session, *, since: int | None = None) -> dict[str, Any]:
    """The log's public document: its key, its purge record, the latest head and the heads of size
    `since` or more (a page of them, oldest first), each with its consistency proof."""
    try:
        public_key: bytes | None = log_public_key(context_of(db).settings.keys_dir)
    except Unavailable:
        public_key = None  # no head signed yet: nothing to publish but that
    last = latest_head(db)
    purge = latest_purge(db)
    heads: list[AuditTreeHead] = []
    if since is not None:
        heads = list(
            db.scalars(
                select(AuditTreeHead)
                .where(AuditTreeHead.tree_size >= since)
                .order_by(AuditTreeHead.tree_size)
                .limit(HEADS_PAGE)
            )
        )
    return {
        "public_key": base64.b64encode(public_key).decode("ascii") if public_key else None,
        "kid": kid_of(public_key).hex() if public_key else None,
        "latest": head_json(last) if last is not None else None,
        "purge": purge_json(purge) if purge is not None else None,
        "heads": [head_json(h) for h in heads],
    }


def _json_line(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def export_lines(db: Session) -> Iterator[bytes]:
    """The export `checkpass audit verify` reads, line by line (JSON Lines): a header with the key,
    the purge record and every stored head; the hub's leaf table; then each event in order of id,
    `{"id":N,"entry":LEAF}` where LEAF is the leaf's bytes as they are (canonical JSON), so the
    verifier hashes a slice of the line instead of parsing and re-serialising a million events.
    Streamed: a month's log does not have to fit in memory twice."""
    settings = context_of(db).settings
    public_key = log_public_key(settings.keys_dir)
    purge = latest_purge(db)
    heads = db.scalars(select(AuditTreeHead).order_by(AuditTreeHead.tree_size))
    yield _json_line(
        {
            "format": EXPORT_FORMAT,
            "exported_at": int(time.time()),
            "public_key": base64.b64encode(public_key).decode("ascii"),
            "purge": purge_json(purge) if purge is not None else None,
            "heads": [head_json(h) for h in heads],
        }
    )
    table = AuditLeaf.__table__
    ids: list[int] = []
    hashes: list[str] = []
    first = None
    for index, event_id, h in db.execute(select(table).order_by(table.c.leaf_index)):
        first = index if first is None else first
        ids.append(event_id)
        hashes.append(bytes(h).hex())
    purged = purge.tree_size if purge is not None else 0
    yield _json_line(
        {"leaves": {"first": purged if first is None else first, "event_ids": ids, "hashes": "".join(hashes)}}
    )
    rows = db.execute(
        select(_EVENT.c.id, *_LEAF_COLUMNS).order_by(_EVENT.c.id).execution_options(yield_per=5000)
    )
    for row in rows:
        yield b'{"id":%d,"entry":%s}\n' % (row[0], entry_bytes(*row[1:]))


def export_log(db: Session, out: BinaryIO) -> int:
    """Write the export to `out`; returns the number of events in it."""
    count = -2
    for line in export_lines(db):
        out.write(line)
        count += 1
    return count


def inclusion_proof(db: Session, event_id: int) -> dict[str, Any]:
    """A proof that event `event_id` is in the latest signed head, small enough to hand to a person:
    the event's bytes, its leaf index, the head and ~log2(size) hashes."""
    leaf = db.scalars(select(AuditLeaf).where(AuditLeaf.event_id == event_id)).first()
    event = db.get(AuditEvent, event_id)
    if event is None:
        raise NotFound("audit event")
    head = latest_head(db)
    if leaf is None or head is None or leaf.leaf_index >= head.tree_size:
        raise Unavailable(
            reason="not_yet_signed",
            detail="this event is not in a signed tree head yet; the next head (every "
            f"{context_of(db).settings.audit_log_head_seconds} s) will hold it",
        )
    path = _view(db, head.tree_size).inclusion_proof(leaf.leaf_index, head.tree_size)
    public_key = log_public_key(context_of(db).settings.keys_dir)
    signed = head_json(head)
    del signed["previous_size"], signed["consistency"]
    return {
        "format": PROOF_FORMAT,
        "event_id": event_id,
        "leaf_index": leaf.leaf_index,
        "entry": event_bytes(event).decode(),
        "head": signed,
        "path": [p.hex() for p in path],
        "public_key": base64.b64encode(public_key).decode("ascii"),
    }
