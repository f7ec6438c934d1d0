"""Status list size and lookup speed at scale.

Run: .venv/bin/python bench/status.py

1,000,000 issued passes, 1% (10,000) revoked at random; then 1,000 more revocations as a delta.
Prints: the signed full list's bytes on the wire (goal <= 32 KB), the signed delta's bytes
(goal <= 4 KB), the lookup time (goal <= 2 us; next to a Python set lookup measured in the
same run as a baseline), and checks that every one of the 1,000,000 answers is exact.
"""

from __future__ import annotations

import platform
import random
import time
import zlib

from crypto.keys import KeyPair
from crypto.status import (
    StatusList,
    apply_delta,
    diff_status,
    load_status_delta,
    load_status_list,
    sign_status_delta,
    sign_status_list,
)

PASSES = 1_000_000
REVOKED = PASSES // 100
NEW_REVOCATIONS = 1_000
LOOKUPS = 200_000


def _per_call_ns(fn, serials: list[int]) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for s in serials:
            fn(s)
        best = min(best, time.perf_counter() - start)
    return best / len(serials) * 1e9


def main() -> None:
    rng = random.Random(20251124)
    issuer = KeyPair.from_seed(b"S" * 32)
    sl = StatusList.empty(issuer.kid, PASSES)
    revoked = set(rng.sample(range(PASSES), REVOKED))
    for serial in revoked:
        sl.revoke(serial)

    full = sign_status_list(sl, issuer)
    start = time.perf_counter()
    loaded = load_status_list(full, issuer.public_key)
    load_ms = (time.perf_counter() - start) * 1e3

    before = loaded.copy()
    fresh = rng.sample(sorted(set(range(PASSES)) - revoked), NEW_REVOCATIONS)
    after = loaded.copy()
    for serial in fresh:
        after.revoke(serial)
    delta_bytes = sign_status_delta(diff_status(before, after), issuer)
    updated = apply_delta(before, load_status_delta(delta_bytes, issuer.public_key))
    all_revoked = revoked | set(fresh)

    # Exact answers: every serial, after the wire round trip and after the delta.
    wrong_full = sum(loaded.is_revoked(s) != (s in revoked) for s in range(PASSES))
    wrong_delta = sum(updated.is_revoked(s) != (s in all_revoked) for s in range(PASSES))
    beyond = updated.is_revoked(PASSES + 5)

    serials = [rng.randrange(PASSES) for _ in range(LOOKUPS)]
    lookup_ns = _per_call_ns(updated.is_revoked, serials)
    baseline_ns = _per_call_ns(all_revoked.__contains__, serials)

    bits_raw = len(sl.bits)
    bits_zlib = len(zlib.compress(bytes(sl.bits), 9))
    print(f"machine: {platform.machine()} Python {platform.python_version()}")
    print(f"passes {PASSES:,}, revoked {REVOKED:,} (1%), delta of {NEW_REVOCATIONS:,} new revocations")
    print(f"bitstring raw             : {bits_raw:9,} bytes")
    print(f"bitstring zlib            : {bits_zlib:9,} bytes")
    print(
        f"signed full list (wire)   : {len(full):9,} bytes   goal <= 32,768: "
        f"{'met' if len(full) <= 32_768 else 'NOT met'} ({len(full) / 32_768:.2f} of budget)"
    )
    print(
        f"signed delta (wire)       : {len(delta_bytes):9,} bytes   goal <=  4,096: "
        f"{'met' if len(delta_bytes) <= 4_096 else 'NOT met'} ({len(delta_bytes) / 4_096:.2f} of budget)"
    )
    print(f"verify+inflate full list  : {load_ms:9.1f} ms")
    print(
        f"lookup is_revoked()       : {lookup_ns:9.0f} ns     goal <= 2,000 ns: "
        f"{'met' if lookup_ns <= 2_000 else 'NOT met'}; {lookup_ns / baseline_ns:.2f}x a Python set lookup "
        f"({baseline_ns:.0f} ns)"
    )
    beyond_text = "not revoked" if not beyond else "WRONG"
    print(
        f"exact answers             : full list {PASSES - wrong_full:,}/{PASSES:,}, after delta "
        f"{PASSES - wrong_delta:,}/{PASSES:,}, beyond size -> {beyond_text}"
    )
    if wrong_full or wrong_delta or beyond:
        raise SystemExit("status list gave a wrong answer")


if __name__ == "__main__":
    main()
