"""Factories for test data every package needs: pass claims and signed passes.

One place for the defaults, so a test writes out only what it is about (`make_claims(key, serial=7)`)
and a change of the claims' shape is made here once instead of in a dozen files. Defaults are the city's
words: a 3-character name, the city's masked national ID form, a real-looking 統一編號 and company.
"""

from __future__ import annotations

import os
import time
from typing import Any

from crypto.keys import KeyPair
from crypto.passes import PassClaims, encode_pass

DAY = 86_400
HOLDER_NAME = "陳大明"
MASKED_NATIONAL_ID = "A12*5*6*9*"
ORG_ID = "04595257"
ORG_NAME = "艾斯移動股份有限公司"


def make_claims(
    issuer: KeyPair | bytes,
    *,
    serial: int = 42,
    now: int | None = None,
    valid_for: int = 30 * DAY,
    pass_id: bytes | None = None,
    holder_name: str = HOLDER_NAME,
    masked_national_id: str = MASKED_NATIONAL_ID,
    org_id: str = ORG_ID,
    org_name: str = ORG_NAME,
    kind: str = "employee",
    issued_at: int | None = None,
    not_before: int | None = None,
    expires_at: int | None = None,
) -> PassClaims:
    """Claims of a pass valid from `now` (default: the wall clock) for `valid_for` seconds.

    `issuer` is the issuer key (or its kid). A fresh random pass id unless one is given; `issued_at`,
    `not_before` and `expires_at` override the window derived from `now` and `valid_for`.
    """
    stamp = int(time.time()) if now is None else now
    issued = stamp if issued_at is None else issued_at
    return PassClaims(
        pass_id=os.urandom(16) if pass_id is None else pass_id,
        issuer_kid=issuer.kid if isinstance(issuer, KeyPair) else issuer,
        serial=serial,
        holder_name=holder_name,
        masked_national_id=masked_national_id,
        org_id=org_id,
        org_name=org_name,
        kind=kind,
        issued_at=issued,
        not_before=issued if not_before is None else not_before,
        expires_at=stamp + valid_for if expires_at is None else expires_at,
    )


def make_pass(issuer: KeyPair, **overrides: Any) -> str:
    """The `TP1:` text of a pass signed by `issuer`; keyword arguments as for `make_claims`."""
    return encode_pass(make_claims(issuer, **overrides), issuer)
