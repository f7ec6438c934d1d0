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
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crypto.merkle import (
    LEAF_PREFIX,
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


@dataclass
class _Head:
    head: TreeHead
    previous_size: int | None
    doc: dict[str, Any]  # its consistency proof is parsed only if the chain check needs it
    signed: bool | None = None  # checked lazily: a million events may come with 40,000 heads

    @property
    def consistency(self) -> list[bytes]:
        try:
            return [bytes.fromhex(h) for h in self.doc.get("consistency") or []]
        except (TypeError, ValueError):
            return []

    def check(self, public_key: bytes) -> bool:
        if self.signed is None:
            self.signed = verify_tree_head(self.head, public_key)
        return self.signed


def _read_heads(docs: Iterable[dict[str, Any]], public_key: bytes, report: Report) -> dict[int, _Head]:
    """The heads by size. A head whose root the events will be checked against needs no signature
    check of its own when it matches (a true statement is true whoever signed it): signatures are
    checked for the newest head, for the heads before a purge, and for any head that disagrees."""
    heads: dict[int, _Head] = {}
    for doc in docs:
        try:
            head, previous, _ = head_of_json(doc, with_proof=False)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UnreadableLog(f"a tree head is malformed: {exc}") from None
        entry = _Head(head, previous, doc)
        known = heads.get(head.tree_size)
        if known is None:
            heads[head.tree_size] = entry
        elif known.head.root_hash != head.root_hash:
            if known.check(public_key) and entry.check(public_key):
                report.findings.append(
                    Finding(
                        "fork",
                        f"two signed heads of size {head.tree_size} with different roots: the log showed "
                        "different histories to different readers",
                    )
                )
            else:
                forged = head.tree_size
                report.findings.append(
                    Finding("head", f"a tree head of size {forged} is not signed by this log's key")
                )
                if not known.check(public_key):
                    heads[head.tree_size] = entry
        elif not known.doc.get("consistency") and doc.get("consistency"):
            heads[head.tree_size] = entry
    return dict(sorted(heads.items()))


def _check_chain(heads: dict[int, _Head], upto: int, public_key: bytes, report: Report) -> None:
    """The heads of size `upto` or less (those before a purge, whose leaves are gone): each signed, and
    each consistent with the head before it when that head is at hand."""
    for size, h in heads.items():
        if size > upto:
            break
        if not h.check(public_key):
            report.findings.append(
                Finding("head", f"the tree head of size {size} is not signed by this log's key")
            )
            continue
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


def _json(line: bytes | str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except ValueError:
        raise UnreadableLog(f"{what} is not JSON") from None
    if not isinstance(doc, dict):
        raise UnreadableLog(f"{what} is not a JSON object")
    return doc


# `{"id":N,"entry":LEAF}`: matched, not parsed. The leaf bytes are hashed exactly as written, and a
# million json.loads calls would be most of the time.
_EVENT_LINE = re.compile(rb'\{"id":(\d{1,18}),"entry":(.*)\}\r?\n?\Z', re.S)


def verify_export(
    source: Iterable[bytes], public_key: bytes, *, archived_heads: Iterable[dict[str, Any]] = ()
) -> Report:
    """Check an export (`checkpass audit export`, lines as bytes) against `public_key`, the heads it
    carries and `archived_heads` (heads the auditor kept from earlier). Raises UnreadableLog on a file
    that is not an export; tampering is reported, never raised."""
    report = Report()
    lines = iter(source)
    header = _json(next(lines, b"null"), "the first line")
    if header.get("format") != EXPORT_FORMAT:
        raise UnreadableLog("not an audit log export (its first line must name " + EXPORT_FORMAT + ")")
    try:
        exported_key = base64.b64decode(header.get("public_key") or "", validate=True)
    except ValueError:
        exported_key = b""
    if exported_key != public_key:
        report.notes.append("the export names another log key than the one given; the given key is used")
    heads = _read_heads([*(header.get("heads") or []), *archived_heads], public_key, report)
    report.heads = len(heads)

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
            if at is not None and at.head.root_hash != prefix.root() and at.check(public_key):
                report.findings.append(
                    Finding("purge", f"the purge record does not match the signed head of size {prefix.size}")
                )
    report.purged = prefix.size
    _check_chain(heads, prefix.size, public_key, report)

    table = _json(next(lines, b"null"), "the second line").get("leaves")
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
    add_id, add_entry, match, sha = entry_ids.append, entries.append, _EVENT_LINE.match, hashlib.sha256
    for number, line in enumerate(lines, 3):
        found = match(line)
        if found is None:
            if not line.strip():
                continue
            raise UnreadableLog(f"line {number} is not an event line")
        add_id(int(found[1]))
        add_entry(sha(LEAF_PREFIX + found[2]).digest())  # crypto.merkle.leaf_hash, inlined: the hot loop
    report.events = len(entries)

    # Newest first: the newest head whose signature holds is what the whole log is checked against.
    later = [h for size, h in heads.items() if size >= prefix.size and size > 0]
    while later and not later[-1].check(public_key):
        report.findings.append(
            Finding(
                "head", f"the tree head of size {later[-1].head.tree_size} is not signed by this log's key"
            )
        )
        later.pop()
    if not later:
        report.notes.append("no signed head covers the kept events: nothing to check them against")
        return report
    report.signed_size = later[-1].head.tree_size
    report.unsigned = max(0, len(entries) - (report.signed_size - prefix.size))
    if first != prefix.size:
        report.notes.append(f"the hub's leaf table starts at leaf {first}, not at {prefix.size}")
        trusted_all = []

    def rebuilds(leaves: list[bytes]) -> tuple[int, _Head | None]:
        """How far `leaves` (from the purge on) rebuild the signed heads: (size up to which every head
        matched, the first signed head that did not). A head that disagrees but is not signed is
        reported and passed over."""
        upto, frontier = prefix.size, prefix
        for h in later:
            size = h.head.tree_size
            chunk = leaves[frontier.size - prefix.size : size - prefix.size]
            grown = frontier.extend(chunk)
            if len(chunk) == size - frontier.size and grown.root() == h.head.root_hash:
                upto, frontier = size, grown
                continue
            if not h.check(public_key):
                finding = Finding("head", f"the tree head of size {size} is not signed by this log's key")
                if finding not in report.findings:
                    report.findings.append(finding)
                continue
            return upto, h
        return upto, None

    trusted_upto, failed = rebuilds(trusted_all)
    trusted = trusted_all[: trusted_upto - prefix.size]
    n = len(trusted)
    if entries[:n] != trusted:
        i = next(i for i in range(n) if i >= len(entries) or entries[i] != trusted[i])
        report.findings.append(_classify(i, prefix.size, entries, entry_ids, trusted, stored_ids))
        return report
    if failed is None:
        return report

    # The leaf table does not rebuild every signed head: check the events against the roots directly.
    lower, failed_by_events = rebuilds(entries)
    if failed_by_events is not None:
        k = lower - prefix.size
        report.findings.append(
            Finding(
                "changed",
                f"the events do not rebuild the signed head of size {failed_by_events.head.tree_size}: an "
                f"event among leaves {lower}..{failed_by_events.head.tree_size - 1} (event ids from "
                f"{_event_id(entry_ids, k)}) was altered, removed, inserted or reordered, and the hub's "
                "leaf table was rewritten to hide it",
                lower,
                _event_id(entry_ids, k),
            )
        )
        return report
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
