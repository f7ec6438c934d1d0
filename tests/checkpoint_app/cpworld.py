"""Shared test data for the checkpoint tests: real keys, signed trust bundle and status list, passes.

`World` plays the hub's signing side in-process for tests that do not need the HTTP hub; the
device's store is filled exactly as enrolment + sync would fill it (signed documents, verified on
load), so nothing here is a stand-in for checkpoint code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cbor2

from checkpoint_app.store import Store
from crypto.cose import sign1
from crypto.keys import KeyPair, kid_of
from crypto.passes import PassClaims, encode_pass
from crypto.status import StatusList
from crypto.trust import IssuerKeyInfo, KeyState, TrustBundle, sign_trust_bundle
from tests.ci import skip_or_fail
from tests.factories import make_claims

DEVICE_ID = "dev-test-1"


def needs_zbar() -> None:
    """Skip when libzbar is missing, but only outside CI: in CI the zbar half must run."""
    from checkpoint_app.decoder import ZBAR_AVAILABLE

    if not ZBAR_AVAILABLE:
        skip_or_fail("pyzbar/libzbar0 is not installed")


UNREACHABLE_HUB = "http://127.0.0.1:9"  # discard port: connection refused, i.e. offline


@dataclass
class World:
    root: KeyPair = field(default_factory=KeyPair.generate)
    issuer: KeyPair = field(default_factory=KeyPair.generate)
    now: int = field(default_factory=lambda: int(time.time()))
    status: StatusList = field(init=False)
    next_serial: int = 0

    def __post_init__(self) -> None:
        self.status = StatusList.empty(self.issuer.kid, 1024)

    def bundle(self, *, issued_at: int | None = None, valid_until: int | None = None) -> TrustBundle:
        issued = self.now - 60 if issued_at is None else issued_at
        return TrustBundle(
            issuer_keys=(
                IssuerKeyInfo(
                    kid=self.issuer.kid,
                    public_key=self.issuer.public_key,
                    state=KeyState.ACTIVE,
                    not_before=self.now - 86400,
                    not_after=None,
                    status_counter=self.status.counter,
                ),
            ),
            issued_at=issued,
            valid_until=issued + 7 * 86400 if valid_until is None else valid_until,
            hub_time=issued,
            root_kid=self.root.kid,
        )

    def make_pass(
        self,
        *,
        key: KeyPair | None = None,
        name: str = "陳大明",
        masked_id: str = "A12*5*6*9*",
        not_before: int | None = None,
        expires_at: int | None = None,
        serial: int | None = None,
    ) -> tuple[str, PassClaims]:
        key = key or self.issuer
        if serial is None:
            serial = self.next_serial
            self.next_serial += 1
        claims = make_claims(
            key,
            serial=serial,
            now=self.now - 3600,
            holder_name=name,
            masked_national_id=masked_id,
            org_id="12345675",
            org_name="新北物流股份有限公司",
            not_before=not_before,
            expires_at=self.now + 28 * 86400 if expires_at is None else expires_at,
        )
        return encode_pass(claims, key), claims

    def credential(
        self,
        device_id: str = DEVICE_ID,
        *,
        officer_id: str = "officer-7",
        nbf: int | None = None,
        exp: int | None = None,
        key: KeyPair | None = None,
    ) -> bytes:
        payload = {
            "typ": "officer",
            "officer_id": officer_id,
            "station_id": "station-1",
            "name_masked": "林*華",
            "device_id": device_id,
            "nbf": self.now - 60 if nbf is None else nbf,
            "exp": self.now + 8 * 3600 if exp is None else exp,
        }
        return sign1(cbor2.dumps(payload), key or self.issuer)


def seed_store(
    data_dir: Path,
    world: World,
    *,
    bundle: TrustBundle | None = None,
    with_status: bool = True,
    with_officer: bool = True,
    hub_url: str = UNREACHABLE_HUB,
) -> None:
    """Fill a device store as a finished enrolment + first sync + officer login would."""
    store = Store(data_dir)
    store.write_device_key(KeyPair.generate().seed)
    store.save_device(DEVICE_ID, "cp", hub_url, world.root.public_key, kid_of(world.root.public_key).hex())
    b = bundle or world.bundle()
    store.save_trust(sign_trust_bundle(b, world.root), b.issued_at, b.valid_until, f'"{b.issued_at}"')
    if with_status:
        sl = world.status
        store.save_status(sl.issuer_kid.hex(), sl.counter, sl.size, bytes(sl.bits), f'"{sl.counter}"')
    if with_officer:
        c = world.credential()
        store.save_officer(
            c, "officer-7", "林*華", "station-1", DEVICE_ID, world.now - 60, world.now + 8 * 3600
        )
    store.close()
