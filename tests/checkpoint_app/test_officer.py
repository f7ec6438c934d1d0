"""The officer credential is verified offline, every time it is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint_app.errors import InputError, LoginError
from checkpoint_app.officer_login import normalise_mobile, verify_credential
from checkpoint_app.service import CheckpointConfig, CheckpointService
from checkpoint_app.store import Store
from crypto.keys import KeyPair
from tests.checkpoint_app.cpworld import DEVICE_ID, World, seed_store


def test_good_credential(service: CheckpointService, world: World) -> None:
    session = verify_credential(world.credential(), service.verifier, DEVICE_ID)
    assert (session.officer_id, session.station_id, session.name_masked) == (
        "officer-7",
        "station-1",
        "林*華",
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda w: w.credential(key=KeyPair.generate()), "unknown key"),
        (lambda w: w.credential(device_id="someone-else"), "another device"),
        (lambda w: w.credential()[:-1] + bytes([w.credential()[-1] ^ 1]), "does not verify"),
        (lambda w: b"\x00garbage", "damaged"),
    ],
)
def test_bad_credentials_are_refused(service: CheckpointService, world: World, make, message: str) -> None:
    with pytest.raises(LoginError, match=message):
        verify_credential(make(world), service.verifier, DEVICE_ID)


def test_expired_or_tampered_stored_credential_stops_scanning(tmp_path: Path, world: World) -> None:
    seed_store(tmp_path / "device", world)
    store = Store(tmp_path / "device")
    # The shift is over: the credential's exp has passed.
    store.save_officer(
        world.credential(nbf=world.now - 9 * 3600, exp=world.now - 60),
        "officer-7",
        "林*華",
        "station-1",
        DEVICE_ID,
        world.now - 9 * 3600,
        world.now - 60,
    )
    store.close()
    service = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    assert service.officer() is None
    # Editing the stored expiry on disk does not help: the signed payload is what counts.
    service.store.db.execute("UPDATE officer SET exp = ?", [world.now + 3600])
    service.store.db.conn.commit()
    service._officer_cache = None
    assert service.officer() is None
    service.logout()
    assert service.store.officer_row() is None
    service.close()


def test_mobile_and_input_checks() -> None:
    assert normalise_mobile("0912-345 678") == "0912345678"
    assert normalise_mobile("+886912345678") == "+886912345678"
    for bad in ("12345", "0212345678", ""):
        with pytest.raises(InputError):
            normalise_mobile(bad)
