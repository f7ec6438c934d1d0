"""Checking the audit log offline (`checkpass audit verify`): an export, or one event's inclusion proof,
against the log's public key and its signed heads. No database, no network, no hub code but the
formats: an auditor runs it on a copy.

What counts as evidence, in order (docs/audit-log.md):
1. Signed heads (the export's, plus any the auditor archived from GET /api/v1/trust/audit-log): each
   signature, no two roots for one size (a fork), and each head's consistency proof from the one before.
2. The signed purge record: it stands for the deleted leaves [0, P) with their frontier.
3. The hub's leaf table: trusted only as far as it rebuilds the signed roots; then every event is
   compared with it, so the first event that differs is named, with what happened to it.
4. If the leaf table was rewritten too, the events are checked against the signed roots themselves:
   the first head they fail bounds the change to the events it added.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crypto.merkle import (
    Frontier,
    TreeHead,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
    verify_purge,
    verify_tree_head,
)
from hub.services.transparency_log import EXPORT_FORMAT, PROOF_FORMAT, head_of_json, purge_of_json


class UnreadableLog(ValueError):
    """The file is not an export or a proof of this log (a usage error, not evidence of tampering)."""


@dataclass(frozen=True)
class Finding:
    """One thing that does not verify. `leaf` is the leaf index and `event_id` the row id the event
    has (in the export) or had (in the hub's leaf table), when known."""

    kind: str  # altered, removed, inserted, reordered, truncated, changed, head, fork, purge, leaves
    message: str
    leaf: int | None = None
    event_id: int | None = None


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    heads: int = 0
    signed_size: int = 0
    purged: int = 0
    events: int = 0
    unsigned: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None


@dataclass(frozen=True)
class _Head:
    head: TreeHead
    previous_size: int | None
    consistency: list[bytes]


def _read_heads(docs: Iterable[dict[str, Any]], public_key: bytes, report: Report) -> dict[int, _Head]:
    heads: dict[int, _Head] = {}
    for doc in docs:
        try:
            head, previous, proof = head_of_json(doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise UnreadableLog(f"a tree head is malformed: {exc}") from None
        if not verify_tree_head(head, public_key):
            report.findings.append(
                Finding("head", f"the tree head of size {head.tree_size} is not signed by this log's key")
            )
            continue
        known = heads.get(head.tree_size)
        if known is not None and known.head.root_hash != head.root_hash:
            report.findings.append(
                Finding(
                    "fork",
                    f"two signed heads of size {head.tree_size} with different roots: the log showed "
                    "different histories to different readers",
                )
            )
            continue
        if known is None or (not known.consistency and proof):
            heads[head.tree_size] = _Head(head, previous, proof)
    return dict(sorted(heads.items()))


def _check_chain(heads: dict[int, _Head], report: Report) -> None:
    """Each head's consistency proof from the head before it, when that head is at hand."""
    for size, h in heads.items():
        if h.previous_size is None or h.previous_size not in heads:
            continue
        before = heads[h.previous_size].head
        if not verify_consistency(before.tree_size, size, before.root_hash, h.head.root_hash, h.consistency):
            report.findings.append(
                Finding(
                    "head",
                    f"the signed head of size {size} is not an extension of the head of size "
                    f"{before.tree_size}: the log rewrote history between them",
                )
            )


def _event_id(ids: list[int], i: int) -> int | None:
    return ids[i] if 0 <= i < len(ids) else None


def _classify(
    i: int,
    first: int,
    entries: list[bytes],
    entry_ids: list[int],
    trusted: list[bytes],
    trusted_ids: list[int],
) -> Finding:
    """What happened at the first position `i` where the events differ from the trusted leaves."""
    leaf = first + i
    if i >= len(entries):
        return Finding(
            "truncated",
            f"the events from leaf {leaf} (id {_event_id(trusted_ids, i)}) to the end are missing",
            leaf,
            _event_id(trusted_ids, i),
        )
    here = entries[i]
    for j in range(i + 1, min(len(entries), len(trusted))):
        if here == trusted[j] and entries[j] == trusted[i]:
            return Finding(
                "reordered",
                f"event id {entry_ids[i]} and event id {entry_ids[j]} were swapped "
                f"(leaves {leaf} and {first + j})",
                leaf,
                entry_ids[i],
            )
    if i + 1 < len(trusted) and here == trusted[i + 1]:
        return Finding(
            "removed",
            f"leaf {leaf} (event id {_event_id(trusted_ids, i)} when signed) was removed",
            leaf,
            _event_id(trusted_ids, i),
        )
    if i + 1 < len(entries) and entries[i + 1] == trusted[i]:
        return Finding(
            "inserted",
            f"event id {entry_ids[i]} was inserted before leaf {leaf}: the signed log has no such event",
            leaf,
            entry_ids[i],
        )
    return Finding(
        "altered",
        f"event id {entry_ids[i]} (leaf {leaf}) was altered: its content is not what was signed",
        leaf,
        entry_ids[i],
    )


def _lines(source: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            raise UnreadableLog(f"line {number} is not JSON") from None
        if not isinstance(doc, dict):
            raise UnreadableLog(f"line {number} is not a JSON object")
        yield doc


def verify_export(
    source: Iterable[bytes | str], public_key: bytes, *, archived_heads: Iterable[dict[str, Any]] = ()
) -> Report:
    """Check an export (`checkpass audit export`) line by line against `public_key`, the heads it carries
    and `archived_heads` (heads the auditor kept from earlier). Raises UnreadableLog on a file that is
    not an export; tampering is reported, never raised."""
    report = Report()
    lines = _lines(source)
    header = next(lines, None)
    if header is None or header.get("format") != EXPORT_FORMAT:
        raise UnreadableLog("not an audit log export (its first line must name " + EXPORT_FORMAT + ")")
    try:
        exported_key = base64.b64decode(header.get("public_key", ""), validate=True)
    except ValueError:
        exported_key = b""
    if exported_key != public_key:
        report.notes.append("the export names another log key than the one given; the given key is used")
    heads = _read_heads([*header.get("heads", []), *archived_heads], public_key, report)
    report.heads = len(heads)
    _check_chain(heads, report)

    prefix = Frontier()
    if header.get("purge") is not None:
        try:
            record = purge_of_json(header["purge"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UnreadableLog(f"the purge record is malformed: {exc}") from None
        if not verify_purge(record, public_key):
            report.findings.append(Finding("purge", "the purge record is not signed by this log's key"))
        else:
            prefix = record.frontier
            at = heads.get(prefix.size)
            if at is not None and at.head.root_hash != prefix.root():
                report.findings.append(
                    Finding("purge", f"the purge record does not match the signed head of size {prefix.size}")
                )
    report.purged = prefix.size

    leaves_line = next(lines, None)
    table = (leaves_line or {}).get("leaves")
    if not isinstance(table, dict):
        raise UnreadableLog("the second line must hold the hub's leaf table")
    try:
        stored = bytes.fromhex(table["hashes"])
        stored_ids = [int(i) for i in table["event_ids"]]
        first = int(table["first"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadableLog(f"the leaf table is malformed: {exc}") from None
    trusted_all = [stored[i : i + 32] for i in range(0, len(stored), 32)]

    entry_ids: list[int] = []
    entries: list[bytes] = []
    for doc in lines:
        try:
            entry_ids.append(int(doc["id"]))
            entries.append(leaf_hash(doc["entry"].encode()))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UnreadableLog(f"an event line is malformed: {exc}") from None
    report.events = len(entries)

    later = [h.head for size, h in heads.items() if size >= prefix.size and size > 0]
    if not later:
        report.notes.append("no signed head covers the kept events: nothing to check them against")
        return report
    report.signed_size = later[-1].tree_size
    report.unsigned = max(0, len(entries) - (report.signed_size - prefix.size))
    if first != prefix.size:
        report.notes.append(f"the hub's leaf table starts at leaf {first}, not at {prefix.size}")
        trusted_all = []

    # How far the hub's leaf table rebuilds the signed roots.
    trusted_upto, frontier, failed_head = prefix.size, prefix, None
    for head in later:
        need = head.tree_size - frontier.size
        chunk = trusted_all[frontier.size - prefix.size : head.tree_size - prefix.size]
        if len(chunk) < need:
            failed_head = head
            break
        frontier = frontier.extend(chunk)
        if frontier.root() != head.root_hash:
            failed_head = head
            break
        trusted_upto = head.tree_size
    trusted = trusted_all[: trusted_upto - prefix.size]

    n = len(trusted)
    for i in range(n):
        if i >= len(entries) or entries[i] != trusted[i]:
            report.findings.append(_classify(i, prefix.size, entries, entry_ids, trusted, stored_ids))
            return report
    if failed_head is None:
        return report

    # The leaf table does not rebuild every head: the events are checked against the roots directly.
    frontier, lower = Frontier.extend(prefix, entries[:n]), trusted_upto
    for head in later:
        if head.tree_size <= trusted_upto:
            continue
        chunk = entries[frontier.size - prefix.size : head.tree_size - prefix.size]
        frontier = frontier.extend(chunk)
        if len(chunk) < head.tree_size - lower or frontier.root() != head.root_hash:
            k = lower - prefix.size
            report.findings.append(
                Finding(
                    "changed",
                    f"the events do not rebuild the signed head of size {head.tree_size}: an event among "
                    f"leaves {lower}..{head.tree_size - 1} (event ids from {_event_id(entry_ids, k)}) was "
                    "altered, removed, inserted or reordered, and the hub's leaf table was rewritten to "
                    "hide it",
                    lower,
                    _event_id(entry_ids, k),
                )
            )
            return report
        lower = head.tree_size
    report.findings.append(
        Finding(
            "leaves",
            "the events verify against every signed head, but the hub's leaf table was changed "
            f"from leaf {trusted_upto} on",
            trusted_upto,
        )
    )
    return report


@dataclass(frozen=True)
class ProofResult:
    ok: bool
    message: str
    entry: dict[str, Any] | None = None
    leaf_index: int | None = None
    head: TreeHead | None = None


def verify_proof(doc: dict[str, Any], public_key: bytes) -> ProofResult:
    """Check one event's inclusion proof (`checkpass audit prove`) against the log's public key."""
    if doc.get("format") != PROOF_FORMAT:
        raise UnreadableLog("not an audit log proof (it must name " + PROOF_FORMAT + ")")
    try:
        head, _previous, _ = head_of_json({**doc["head"], "consistency": []})
        index = int(doc["leaf_index"])
        entry = doc["entry"].encode()
        path = [bytes.fromhex(h) for h in doc["path"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnreadableLog(f"the proof is malformed: {exc}") from None
    try:
        content = json.loads(entry)
    except ValueError:
        content = None
    if not verify_tree_head(head, public_key):
        return ProofResult(False, "the tree head is not signed by this log's key", content, index, head)
    if not verify_inclusion(leaf_hash(entry), index, head.tree_size, path, head.root_hash):
        return ProofResult(
            False,
            f"the event is not leaf {index} of the signed tree of size {head.tree_size}",
            content,
            index,
            head,
        )
    return ProofResult(
        True, f"the event is leaf {index} of the signed tree of size {head.tree_size}", content, index, head
    )
