"""Shared fixtures for the crypto tests: fixed keys, a pass, a trust bundle and status lists."""

from __future__ import annotations

import pytest

from crypto.keys import KeyPair
from crypto.passes import PassClaims
from crypto.status import StatusList
from crypto.trust import TrustBundle
from tests.crypto.crypto_fixtures import NOW, issuer_info
from tests.factories import make_claims


@pytest.fixture
def root() -> KeyPair:
    return KeyPair.from_seed(bytes([1]) * 32)


@pytest.fixture
def issuer() -> KeyPair:
    return KeyPair.from_seed(bytes([2]) * 32)


@pytest.fixture
def claims(issuer: KeyPair) -> PassClaims:
    return make_claims(issuer, pass_id=bytes(range(16)), now=NOW - 3600, expires_at=NOW + 30 * 86_400)


@pytest.fixture
def trust(root: KeyPair, issuer: KeyPair) -> TrustBundle:
    return TrustBundle((issuer_info(issuer),), NOW - 60, NOW + 7 * 86_400, NOW - 60, root.kid)


@pytest.fixture
def status(issuer: KeyPair) -> dict[bytes, StatusList]:
    return {issuer.kid: StatusList.empty(issuer.kid, 1024)}
