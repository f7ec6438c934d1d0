"""Shared fixtures for the crypto tests: fixed keys, a pass, a trust bundle and status lists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules import crypto_fixtures and kat from this directory, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))

from crypto_fixtures import NOW, issuer_info  # noqa: E402

from crypto.keys import KeyPair
from crypto.passes import PassClaims
from crypto.status import StatusList
from crypto.trust import TrustBundle


@pytest.fixture
def root() -> KeyPair:
    return KeyPair.from_seed(bytes([1]) * 32)


@pytest.fixture
def issuer() -> KeyPair:
    return KeyPair.from_seed(bytes([2]) * 32)


@pytest.fixture
def claims(issuer: KeyPair) -> PassClaims:
    return PassClaims(
        pass_id=bytes(range(16)),
        issuer_kid=issuer.kid,
        serial=42,
        holder_name="陳大明",
        masked_national_id="A12*5*6*9*",
        org_id="04595257",
        org_name="艾斯移動股份有限公司",
        kind="employee",
        issued_at=NOW - 3600,
        not_before=NOW - 3600,
        expires_at=NOW + 30 * 86_400,
    )


@pytest.fixture
def trust(root: KeyPair, issuer: KeyPair) -> TrustBundle:
    return TrustBundle((issuer_info(issuer),), NOW - 60, NOW + 7 * 86_400, NOW - 60, root.kid)


@pytest.fixture
def status(issuer: KeyPair) -> dict[bytes, StatusList]:
    return {issuer.kid: StatusList.empty(issuer.kid, 1024)}
