"""Fixed keys, claims and helpers for the crypto tests (a uniquely named module, not conftest,
so that test files can import it without clashing with other packages' conftest modules)."""

from __future__ import annotations

from dataclasses import replace

from crypto.keys import KeyPair
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle

NOW = 1_764_000_000  # 2025-11-24, a fixed clock for every test


def issuer_info(
    key: KeyPair, state: KeyState = KeyState.ACTIVE, not_after: int | None = None
) -> IssuerKeyInfo:
    return IssuerKeyInfo(key.kid, key.public_key, state, NOW - 86_400, not_after, 0)


def with_keys(trust: TrustBundle, *infos: IssuerKeyInfo) -> TrustBundle:
    return replace(trust, issuer_keys=infos)
