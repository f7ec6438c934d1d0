"""Merkle trees, proofs and signed tree heads for an append-only log, as RFC 9162 section 2.1 defines
them (Certificate Transparency 2.0), and the signed statements a log makes about itself.

The tree over n leaves D[0:n] is RFC 9162's MTH: a leaf's hash is SHA-256(0x00 || entry), a node's is
SHA-256(0x01 || left || right), and a tree whose size is not a power of two splits at the largest power
of two below it. Inclusion proofs are the RFC's PATH, consistency proofs its PROOF/SUBPROOF, and both
verifiers follow the RFC's algorithms (sections 2.1.3.2 and 2.1.4.2).

`Frontier` is the tree's left edge: the roots of the perfect subtrees that [0, n) splits into by n's
binary digits. It is all a log needs to keep to append, to compute the next root, and, once a prefix is
deleted, to stand in for it: every one of those subtrees is a node of every larger tree.

Pure: no I/O, no clock. Wrong input raises `CryptoError`; verifiers answer True or False.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from crypto.errors import CryptoError
from crypto.keys import KeyPair, kid_of, verify_signature

HASH_BYTES = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): a leaf can never pass for a node (RFC 9162 section 2.1.1)."""
    return _sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


EMPTY_ROOT = _sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where the RFC's tree splits D[0:n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_BYTES:
        raise CryptoError(f"{what} must be {HASH_BYTES} bytes")
    return value


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over these leaf hashes, level by level: pairing neighbours and lifting an odd last node builds
    the same tree as the RFC's recursion (which splits at the largest power of two), without recursing."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@dataclass(frozen=True)
class Frontier:
    """The roots of the perfect subtrees covering leaves [0, size), largest (leftmost) first."""

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 0:
            raise CryptoError("frontier size must be a non-negative int")
        if len(self.hashes) != self.size.bit_count():
            raise CryptoError(f"a frontier of size {self.size} has {self.size.bit_count()} hashes")
        for h in self.hashes:
            _check_hash(h, "frontier hash")

    def blocks(self) -> list[tuple[int, int, bytes]]:
        """(start, end, hash) of each subtree, left to right."""
        out, start = [], 0
        for bit, h in zip(_bits_high_first(self.size), self.hashes, strict=True):
            out.append((start, start + bit, h))
            start += bit
        return out

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc

    def extend(self, leaves: Sequence[bytes]) -> Frontier:
        """The frontier after appending these leaf hashes. Appending to a tree of size s merges as many
        subtrees as s has trailing one bits (a binary counter's carries); this loop is the verifier's
        inner loop, hence the inlined hashing."""
        hashes = list(self.hashes)
        size = self.size
        sha, prefix = _sha256, NODE_PREFIX
        for h in leaves:
            carry = size
            while carry & 1:
                h = sha(prefix + hashes.pop() + h).digest()
                carry >>= 1
            hashes.append(h)
            size += 1
        return Frontier(size, tuple(hashes))

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        if len(data) % HASH_BYTES:
            raise CryptoError("frontier bytes are not a whole number of hashes")
        return cls(size, tuple(data[i : i + HASH_BYTES] for i in range(0, len(data), HASH_BYTES)))


def _bits_high_first(n: int) -> list[int]:
    return [1 << b for b in range(n.bit_length() - 1, -1, -1) if n >> b & 1]


class TreeView:
    """The tree over leaves [0, size) when only a prefix's frontier and the leaves after it are kept.

    `prefix` stands for leaves [0, prefix.size) (deleted, or never needed one by one); `leaves` are the
    hashes of leaves prefix.size, prefix.size + 1, ... The view answers for any tree size it covers
    that is at least prefix.size: roots, inclusion proofs of kept leaves, consistency proofs.
    """

    def __init__(self, leaves: Sequence[bytes], prefix: Frontier | None = None) -> None:
        self.prefix = prefix or Frontier()
        self.leaves = leaves
        self._blocks = {(s, e): h for s, e, h in self.prefix.blocks()}

    @property
    def size(self) -> int:
        return self.prefix.size + len(self.leaves)

    def _check_size(self, n: int) -> None:
        if not self.prefix.size <= n <= self.size:
            raise CryptoError(f"tree size {n} is outside {self.prefix.size}..{self.size}")

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC's recursion reaches (a node of some tree here)."""
        if end <= start:
            raise CryptoError("empty range")
        known = self._blocks.get((start, end))
        if known is not None:
            return known
        first = self.prefix.size
        if start >= first:
            return root_of(self.leaves[start - first : end - first])
        if end - start == 1:
            raise CryptoError(f"leaf {start} is not kept")
        k = _split(end - start)
        return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self, n: int | None = None) -> bytes:
        n = self.size if n is None else n
        self._check_size(n)
        if n == 0:
            return EMPTY_ROOT
        if n == self.prefix.size:
            return self.prefix.root()
        return self.subtree(0, n)

    def inclusion_proof(self, index: int, n: int | None = None) -> list[bytes]:
        """PATH(index, D[0:n]) (RFC 9162 section 2.1.3.1), leaf to root."""
        n = self.size if n is None else n
        self._check_size(n)
        if not self.prefix.size <= index < n:
            raise CryptoError(f"leaf {index} is not a kept leaf of a tree of size {n}")
        path: list[bytes] = []
        start, end = 0, n
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self.subtree(start + k, end))
                end = start + k
            else:
                path.append(self.subtree(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        """PROOF(m, D[0:n]) (RFC 9162 section 2.1.4.1). Every node it needs lies in [m, n) or is a
        subtree of m's frontier, so a view whose prefix ends at or before m can always make it."""
        n = self.size if n is None else n
        self._check_size(n)
        if not 0 < m <= n:
            raise CryptoError(f"no consistency proof from size {m} to {n}")
        proof: list[bytes] = []
        start, end, complete = 0, n, True
        mm = m
        while True:
            if mm == end - start:
                if not complete:
                    proof.append(self.subtree(start, end))
                break
            k = _split(end - start)
            if mm <= k:
                proof.append(self.subtree(start + k, end))
                end = start + k
            else:
                proof.append(self.subtree(start, start + k))
                start += k
                mm -= k
                complete = False
        proof.reverse()
        return proof


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does `proof` show leaf hash `leaf` at `index` in the tree `root`?"""
    try:
        _check_hash(root, "root hash")
    except CryptoError:
        return False
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(
    first_size: int, second_size: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: is the tree `second_root` the tree `first_root` with leaves appended?"""
    try:
        _check_hash(first_root, "root hash")
        _check_hash(second_root, "root hash")
        for p in proof:
            _check_hash(p, "proof hash")
    except CryptoError:
        return False
    if not isinstance(first_size, int) or not isinstance(second_size, int):
        return False
    if not 0 < first_size <= second_size:
        return first_size == 0 and not proof  # the empty tree is a prefix of every tree
    if first_size == second_size:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first_size & (first_size - 1) == 0:  # a power of two: the first tree is a node of the second
        path.insert(0, first_root)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root that `proof` leads to from leaf hash `leaf` at `index` of a tree of `size` leaves (RFC
    9162 section 2.1.3.2's loop), or None when the proof cannot belong to such a tree."""
    if not isinstance(index, int) or not isinstance(size, int) or not 0 <= index < size:
        return None
    if not isinstance(leaf, bytes) or len(leaf) != HASH_BYTES:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or not isinstance(p, bytes) or len(p) != HASH_BYTES:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# ---- signed statements ---------------------------------------------------------------------------
# Fixed-width binary, so there is exactly one byte string per statement and no parser to fool. A label
# per kind, so a signed head can never be replayed as a purge record or the other way round.

_HEAD_LABEL = b"checkpass audit log tree head v1\n"
_PURGE_LABEL = b"checkpass audit log purge v1\n"
_U64 = struct.Struct(">QQ")


@dataclass(frozen=True)
class TreeHead:
    """The log's statement that its tree of `tree_size` leaves has root `root_hash` at `timestamp`
    (Unix seconds), signed by the log key `kid`."""

    tree_size: int
    root_hash: bytes
    timestamp: int
    kid: bytes = b""
    signature: bytes = b""

    def message(self) -> bytes:
        _check_hash(self.root_hash, "root hash")
        if self.tree_size < 0 or self.timestamp < 0:
            raise CryptoError("tree size and timestamp must be non-negative")
        return _HEAD_LABEL + _U64.pack(self.tree_size, self.timestamp) + self.root_hash


def sign_tree_head(tree_size: int, root_hash: bytes, timestamp: int, key: KeyPair) -> TreeHead:
    head = TreeHead(tree_size, root_hash, timestamp)
    return TreeHead(tree_size, root_hash, timestamp, key.kid, key.sign(head.message()))


def verify_tree_head(head: TreeHead, public_key: bytes) -> bool:
    try:
        message = head.message()
    except (CryptoError, TypeError, struct.error):
        return False
    return head.kid == kid_of(public_key) and verify_signature(public_key, message, head.signature)


@dataclass(frozen=True)
class PurgeRecord:
    """The log's statement that it deleted leaves [0, frontier.size) at `timestamp`, keeping their
    frontier so that the tree it signed can still be rebuilt from the leaves after them."""

    frontier: Frontier
    timestamp: int
    kid: bytes = b""
    signature: bytes = b""

    def message(self) -> bytes:
        if self.timestamp < 0:
            raise CryptoError("timestamp must be non-negative")
        return _PURGE_LABEL + _U64.pack(self.frontier.size, self.timestamp) + self.frontier.to_bytes()


def sign_purge(frontier: Frontier, timestamp: int, key: KeyPair) -> PurgeRecord:
    record = PurgeRecord(frontier, timestamp)
    return PurgeRecord(frontier, timestamp, key.kid, key.sign(record.message()))


def verify_purge(record: PurgeRecord, public_key: bytes) -> bool:
    try:
        message = record.message()
    except (CryptoError, TypeError, struct.error):
        return False
    return record.kid == kid_of(public_key) and verify_signature(public_key, message, record.signature)
