"""crypto.merkle: RFC 9162 trees and proofs, against the Certificate Transparency reference vectors, a
naive transcription of the RFC's recursive definitions, hand-computed small trees, and properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import CryptoError
from crypto.keys import KeyPair
from crypto.merkle import (
    EMPTY_ROOT,
    Frontier,
    TreeView,
    leaf_hash,
    root_from_inclusion,
    root_of,
    sign_purge,
    sign_tree_head,
    verify_consistency,
    verify_inclusion,
    verify_purge,
    verify_tree_head,
)

# The reference inputs and tree heads of the Certificate Transparency test suite (RFC 6962 and RFC 9162
# define the same tree): entry i is the hex below, ROOTS[n] the root of the first n entries.
ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, PATH)
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (first size, second size, PROOF)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
LEAVES = [leaf_hash(e) for e in ENTRIES]


# ---- the RFC's definitions, transcribed naively (recursion over lists of entries) ----------------


def _sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _k(len(d))
    return _sha(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [naive_mth(d)]
    k = _k(len(d))
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


def _entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


# ---- known answers ---------------------------------------------------------------------------------


def test_roots_match_the_reference_vectors_for_every_size():
    assert EMPTY_ROOT.hex() == ROOTS[0] == root_of([]).hex()
    for n in range(len(ENTRIES) + 1):
        assert root_of(LEAVES[:n]).hex() == ROOTS[n]
        assert Frontier().extend(LEAVES[:n]).root().hex() == ROOTS[n]
        assert naive_mth(ENTRIES[:n]).hex() == ROOTS[n]  # the naive transcription is itself right


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(index, size, path):
    proof = TreeView(LEAVES[:size]).inclusion_proof(index)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(first, second, path):
    proof = TreeView(LEAVES[:second]).consistency_proof(first)
    assert [p.hex() for p in proof] == path
    assert verify_consistency(first, second, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]), proof)


def test_a_three_leaf_tree_by_hand():
    a, b, c = (_sha(b"\x00" + x) for x in (b"a", b"b", b"c"))
    ab = _sha(b"\x01" + a + b)
    root = _sha(b"\x01" + ab + c)  # 3 is not a power of two: split at 2, c is lifted as it is
    assert root_of([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]) == root
    view = TreeView([a, b, c])
    assert view.inclusion_proof(2) == [ab]
    assert view.inclusion_proof(0) == [b, c]
    assert view.consistency_proof(2) == [c]
    assert view.consistency_proof(1) == [b, c]


def test_a_five_leaf_tree_by_hand():
    leaves = [leaf_hash(bytes([i])) for i in range(5)]
    l01 = _sha(b"\x01" + leaves[0] + leaves[1])
    l23 = _sha(b"\x01" + leaves[2] + leaves[3])
    l0123 = _sha(b"\x01" + l01 + l23)
    assert root_of(leaves) == _sha(b"\x01" + l0123 + leaves[4])
    assert Frontier().extend(leaves).hashes == (l0123, leaves[4])
    assert TreeView(leaves).inclusion_proof(4) == [l0123]
    assert TreeView(leaves).consistency_proof(4) == [leaves[4]]  # 4 is a power of two: its root is implied


# ---- against the naive transcription --------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 34))
def test_every_proof_of_every_small_tree_equals_the_rfc_definition(n):
    d = _entries(n)
    view = TreeView([leaf_hash(e) for e in d])
    assert view.root() == naive_mth(d)
    for m in range(n):
        assert view.inclusion_proof(m) == naive_path(m, d)
    for m in range(1, n + 1):
        assert view.consistency_proof(m) == naive_subproof(m, d, True)
        assert view.root(m) == naive_mth(d[:m])


@pytest.mark.parametrize("prefix", [1, 2, 3, 5, 8, 13, 16])
def test_a_view_without_its_prefix_gives_the_same_answers(prefix):
    """After the first `prefix` leaves are deleted and only their frontier is kept, the roots and the
    proofs of the leaves that remain are those of the whole tree."""
    d = _entries(40)
    leaves = [leaf_hash(e) for e in d]
    whole = TreeView(leaves)
    cut = TreeView(leaves[prefix:], Frontier().extend(leaves[:prefix]))
    for n in range(prefix, 41):
        assert cut.root(n) == whole.root(n)
        for m in range(prefix, n):
            assert cut.inclusion_proof(m, n) == whole.inclusion_proof(m, n)
        for m in range(max(prefix, 1), n + 1):
            assert cut.consistency_proof(m, n) == whole.consistency_proof(m, n)
    with pytest.raises(CryptoError):
        cut.inclusion_proof(prefix - 1)  # a deleted leaf cannot be proved
    with pytest.raises(CryptoError):
        cut.root(prefix - 1)


# ---- properties ------------------------------------------------------------------------------------

_entry_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


def _flip(data: bytes, bit: int) -> bytes:
    i = bit // 8 % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit % 8)]) + data[i + 1 :]


@settings(max_examples=60, deadline=None)
@given(d=_entry_lists, data=st.data())
def test_every_inclusion_proof_verifies_and_any_changed_byte_fails(d, data):
    leaves = [leaf_hash(e) for e in d]
    n = len(leaves)
    view = TreeView(leaves)
    root = view.root()
    assert root == naive_mth(d)
    for m in range(n):
        proof = view.inclusion_proof(m)
        assert verify_inclusion(leaves[m], m, n, proof, root)
        assert root_from_inclusion(leaves[m], m, n, proof) == root
    m = data.draw(st.integers(0, n - 1))
    proof = view.inclusion_proof(m)
    bit = data.draw(st.integers(0, 255))
    assert not verify_inclusion(_flip(leaves[m], bit), m, n, proof, root)
    assert not verify_inclusion(leaf_hash(d[m] + b"x"), m, n, proof, root)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
        assert not verify_inclusion(leaves[m], m, n, bad, root)
        assert not verify_inclusion(leaves[m], m, n, proof[:-1], root)  # a shortened path
    assert not verify_inclusion(leaves[m], m, n, [*proof, root], root)  # a lengthened one
    others = [i for i in range(n) if leaves[i] != leaves[m]]
    if others:
        assert not verify_inclusion(leaves[m], others[0], n, proof, root)


@settings(max_examples=40, deadline=None)
@given(d=_entry_lists, data=st.data())
def test_every_consistency_proof_between_any_two_sizes_verifies_and_any_changed_byte_fails(d, data):
    leaves = [leaf_hash(e) for e in d]
    n = len(leaves)
    view = TreeView(leaves)
    roots = [view.root(k) for k in range(n + 1)]
    for m in range(1, n + 1):
        for k in range(m, n + 1):
            assert verify_consistency(m, k, roots[m], roots[k], view.consistency_proof(m, k))
    m = data.draw(st.integers(1, n))
    k = data.draw(st.integers(m, n))
    proof = view.consistency_proof(m, k)
    bit = data.draw(st.integers(0, 255))
    assert not verify_consistency(m, k, _flip(roots[m], bit), roots[k], proof)
    assert not verify_consistency(m, k, roots[m], _flip(roots[k], bit), proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
        assert not verify_consistency(m, k, roots[m], roots[k], bad)
        assert not verify_consistency(m, k, roots[m], roots[k], proof[:-1])
    if m < k:
        # A history rewritten below m: the new tree's root is not consistent with the old head.
        i = data.draw(st.integers(0, m - 1))
        forged = TreeView([*leaves[:i], leaf_hash(d[i] + b"!"), *leaves[i + 1 :]])
        assert not verify_consistency(m, k, roots[m], forged.root(k), forged.consistency_proof(m, k))


@settings(max_examples=40, deadline=None)
@given(d=_entry_lists, cut=st.integers(0, 70))
def test_extending_a_frontier_in_pieces_is_the_same_as_at_once(d, cut):
    leaves = [leaf_hash(e) for e in d]
    cut = min(cut, len(leaves))
    whole = Frontier().extend(leaves)
    assert Frontier().extend(leaves[:cut]).extend(leaves[cut:]) == whole
    assert whole.root() == root_of(leaves)
    assert Frontier.from_bytes(whole.size, whole.to_bytes()) == whole


# ---- signed statements -----------------------------------------------------------------------------


def test_a_signed_head_verifies_and_any_changed_field_fails():
    key, other = KeyPair.generate(), KeyPair.generate()
    root = bytes.fromhex(ROOTS[8])
    head = sign_tree_head(8, root, 1_765_000_000, key)
    assert verify_tree_head(head, key.public_key)
    assert not verify_tree_head(head, other.public_key)
    for changed in (
        dict(tree_size=7),
        dict(timestamp=head.timestamp + 1),
        dict(root_hash=bytes.fromhex(ROOTS[7])),
        dict(signature=_flip(head.signature, 3)),
        dict(root_hash=b"short"),
    ):
        forged = type(head)(**{**head.__dict__, **changed})
        assert not verify_tree_head(forged, key.public_key), changed


def test_a_purge_record_verifies_and_cannot_pass_for_a_head():
    key = KeyPair.generate()
    frontier = Frontier().extend(LEAVES[:6])
    record = sign_purge(frontier, 1_765_000_000, key)
    assert verify_purge(record, key.public_key)
    shorter = Frontier().extend(LEAVES[:4])
    assert not verify_purge(
        type(record)(shorter, record.timestamp, record.kid, record.signature), key.public_key
    )
    as_head = sign_tree_head(6, frontier.root(), 1_765_000_000, key)
    assert not verify_purge(
        type(record)(frontier, record.timestamp, key.kid, as_head.signature), key.public_key
    )


def test_wrong_input_is_a_crypto_error():
    with pytest.raises(CryptoError):
        Frontier(3, (b"\x00" * 32,))
    with pytest.raises(CryptoError):
        Frontier.from_bytes(1, b"\x00" * 31)
    with pytest.raises(CryptoError):
        TreeView(LEAVES).inclusion_proof(9)
    with pytest.raises(CryptoError):
        TreeView(LEAVES).consistency_proof(0)
    assert not verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_consistency(2, 1, EMPTY_ROOT, EMPTY_ROOT, [])
