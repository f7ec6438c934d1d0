"""The audit log's transparency log: verifying a month's export, one event's proof, and the cost of the
tree per audited request (docs/audit-log.md, "What it costs").

Run: .venv/bin/python bench/auditlog.py [--entries 1000000] [--heads 40320]

* `checkpass audit verify` over an export of `--entries` events under `--heads` signed heads (the
  default is one head a minute for 28 days), next to hashing the same event bytes with plain hashlib in
  the same run; goal: <= 10 s for 1,000,000 events;
* one event's inclusion proof in that log: its size, the time to make it from the leaf table and to
  verify it, next to one raw Ed25519 verify (PyNaCl) in the same run;
* per audited request: the head job's CPU per event (read the row, canonical bytes, leaf hash, leaf
  row, frontier) on an SQLite hub, next to the CPU of writing and committing that audit row itself.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import nacl.signing

from crypto.keys import KeyPair
from crypto.merkle import Frontier, TreeView, leaf_hash, sign_tree_head
from hub.services.transparency_check import verify_export, verify_proof
from hub.services.transparency_log import EXPORT_FORMAT, PROOF_FORMAT, entry_bytes

ACTIONS = ("query.passes", "employee.read", "pass.read", "login", "export.visits", "officer.read")
ROLES = ("super_admin", "general_admin", "station_admin", "enterprise_admin")


def _event(i: int, start: dt.datetime) -> bytes:
    return entry_bytes(
        start + dt.timedelta(seconds=i * 2.4, microseconds=i % 997),
        1 + i % 400,
        ROLES[i % len(ROLES)],
        ACTIONS[i % len(ACTIONS)],
        f"employee:{i % 50_000}" if i % 3 else None,
        {
            "count": i % 50,
            "unmask": i % 17 == 0,
            "masked": "陳*明",
            "reason": "查核" if i % 17 == 0 else None,
        },
        f"203.0.113.{i % 250}",
    )


def _head_json(head, previous: int | None, proof: list[bytes]) -> dict:
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash.hex(),
        "timestamp": head.timestamp,
        "kid": head.kid.hex(),
        "signature": base64.b64encode(head.signature).decode(),
        "previous_size": previous,
        "consistency": [p.hex() for p in proof],
    }


def build_export(
    path: Path, entries: int, heads: int, key: KeyPair
) -> tuple[list[bytes], list[bytes], object]:
    """Write an export the way `checkpass audit export` does; returns (events, leaf hashes, last head)."""
    start = dt.datetime(2026, 11, 8, tzinfo=dt.UTC)
    events = [_event(i, start) for i in range(entries)]
    leaves = [leaf_hash(e) for e in events]
    sizes = sorted({max(1, round(entries * (k + 1) / heads)) for k in range(heads)})
    head_docs, frontier, previous, head = [], Frontier(), None, None
    for n, size in enumerate(sizes):
        new = leaves[frontier.size : size]
        proof = TreeView(new, frontier).consistency_proof(frontier.size) if frontier.size else []
        frontier = frontier.extend(new)
        head = sign_tree_head(size, frontier.root(), 1_762_560_000 + 60 * n, key)
        head_docs.append(_head_json(head, previous, proof))
        previous = size
    with path.open("wb") as out:
        header = {
            "format": EXPORT_FORMAT,
            "exported_at": 1_765_000_000,
            "public_key": base64.b64encode(key.public_key).decode(),
            "purge": None,
            "heads": head_docs,
        }
        out.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
        table = {"first": 0, "event_ids": list(range(1, entries + 1)), "hashes": b"".join(leaves).hex()}
        out.write(json.dumps({"leaves": table}, separators=(",", ":")).encode() + b"\n")
        for i, e in enumerate(events):
            out.write(b'{"id":%d,"entry":%s}\n' % (i + 1, e))
    return events, leaves, head


def bench_verify(entries: int, heads: int) -> None:
    key = KeyPair.from_seed(b"L" * 32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        t0 = time.perf_counter()
        events, leaves, last = build_export(path, entries, heads, key)
        print(
            f"built an export of {entries:,} events and {heads:,} heads in {time.perf_counter() - t0:.1f} s "
            f"({path.stat().st_size / 1e6:.0f} MB)"
        )

        t0 = time.perf_counter()
        for e in events:
            hashlib.sha256(e).digest()
        baseline = time.perf_counter() - t0

        t0 = time.perf_counter()
        with path.open("rb") as source:
            report = verify_export(source, key.public_key)
        took = time.perf_counter() - t0
        assert report.ok and report.signed_size == entries, report.findings
        goal = "met" if took <= 10 * entries / 1_000_000 else "MISSED"
        print(
            f"audit verify: {took:.2f} s for {entries:,} events ({took / entries * 1e6:.2f} µs each); "
            f"plain hashlib over the same bytes {baseline:.2f} s; ratio {took / baseline:.1f}x; "
            f"goal <= 10 s per million: {goal}"
        )

        # One event's proof in the same log.
        index = entries * 2 // 3
        t0 = time.perf_counter()
        view = TreeView(leaves)
        path_hashes = view.inclusion_proof(index, last.tree_size)
        made = time.perf_counter() - t0
        proof = {
            "format": PROOF_FORMAT,
            "event_id": index + 1,
            "leaf_index": index,
            "entry": events[index].decode(),
            "head": {
                k: v
                for k, v in _head_json(last, None, []).items()
                if k not in ("previous_size", "consistency")
            },
            "path": [p.hex() for p in path_hashes],
            "public_key": base64.b64encode(key.public_key).decode(),
        }
        size = len(json.dumps(proof, ensure_ascii=False).encode())
        rounds = 2000
        t0 = time.perf_counter()
        for _ in range(rounds):
            assert verify_proof(proof, key.public_key).ok
        per_proof = (time.perf_counter() - t0) / rounds
        verify_key = nacl.signing.VerifyKey(key.public_key)
        signed = key.sign(b"x" * 64)
        t0 = time.perf_counter()
        for _ in range(rounds):
            verify_key.verify(b"x" * 64, signed)
        per_sig = (time.perf_counter() - t0) / rounds
        print(
            f"proof for leaf {index:,}: {len(path_hashes)} hashes ({32 * len(path_hashes)} bytes), "
            f"{size} bytes as JSON with the event and the signed head; made in {made * 1000:.0f} ms from "
            f"the leaf table; verified in {per_proof * 1e6:.0f} µs, one raw Ed25519 verify "
            f"{per_sig * 1e6:.0f} µs, ratio {per_proof / per_sig:.2f}x"
        )


def bench_per_request(events: int) -> None:
    """On a real SQLite hub: CPU per audit row written and committed, then the head job's CPU per event."""
    from hub.context import HubContext, make_sessionmaker
    from hub.core.config import Settings
    from hub.db import make_engine
    from hub.migrations import upgrade_to_head
    from hub.services import audit
    from hub.services.transparency_log import log_key, sign_head

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/hub.db",
            keys_dir=Path(tmp) / "keys",
            key_passphrase="bench passphrase",
            secret_key="bench secret " * 4,
            _env_file=None,
        )
        engine = make_engine(settings.database_url)
        upgrade_to_head(engine)
        sessions = make_sessionmaker(engine, HubContext.from_settings(settings))
        log_key(settings)  # the key's one argon2id derivation is not a per-request cost
        with sessions() as db:
            t0 = time.process_time()
            for i in range(events):
                audit.record(db, "query.passes", target=f"employee:{i}", client_ip="203.0.113.9", count=20)
                db.commit()
            write = (time.process_time() - t0) / events
            t0 = time.process_time()
            head = sign_head(db)
            db.commit()
            chain = (time.process_time() - t0) / events
        engine.dispose()
        assert head is not None and head.tree_size == events
        hashing = _hash_only(events)
        print(
            f"per audited request ({events:,} events): writing and committing the audit row "
            f"{write * 1e6:.0f} µs of CPU; the head job {chain * 1e6:.1f} µs per event "
            f"(of which canonical bytes + leaf hash {hashing * 1e6:.1f} µs), ratio {chain / write:.3f} "
            f"({100 * chain / write:.1f}% of the audit write alone, less of the whole request)"
        )


def _hash_only(n: int) -> float:
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    t0 = time.process_time()
    for i in range(n):
        leaf_hash(_event(i, start))
    return (time.process_time() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--heads", type=int, default=40_320, help="signed heads (default: 1 a minute, 28 days)"
    )
    parser.add_argument("--requests", type=int, default=5_000, help="audited writes for the per-request cost")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, pid {os.getpid()}"
    )
    bench_verify(args.entries, min(args.heads, args.entries))
    bench_per_request(args.requests)


if __name__ == "__main__":
    main()
