"""QR images made here, read back through the file frame source and the decoder, give the right verdicts."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from checkpass_testkit.synthetic import damage_qr_png, place
from checkpoint_app.errors import NoOfficerError
from checkpoint_app.frames import FileSource
from checkpoint_app.service import CheckpointConfig, CheckpointService
from checkpoint_app.store import Store
from checkpoint_app.verifier import Verifier
from crypto.base45 import b45decode, b45encode
from crypto.cose import parse_sign1
from crypto.keys import KeyPair
from crypto.passes import PASS_PREFIX, pass_qr_png
from crypto.trust import sign_trust_bundle
from crypto.verify import Reason
from tests.checkpoint_app.cpworld import DEVICE_ID, World, seed_store


def frame_file(folder: Path, name: str, grey_code: np.ndarray, seed: int) -> None:
    frame = place(grey_code, np.random.default_rng(seed))
    assert cv2.imwrite(str(folder / f"{name}.png"), frame)


def png_to_grey(png: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)


def tamper(text: str) -> str:
    """Change one bit of the signed payload, as a forger editing a real pass would."""
    raw = b45decode(text[len(PASS_PREFIX) :])
    payload = parse_sign1(raw).payload
    altered = payload[:-1] + bytes([payload[-1] ^ 1])
    assert raw.count(payload) == 1
    return PASS_PREFIX + b45encode(raw.replace(payload, altered))


def test_generated_images_through_file_source(tmp_path: Path, world: World) -> None:
    valid, valid_claims = world.make_pass()
    expired, _ = world.make_pass(expires_at=world.now - 10)
    revoked, revoked_claims = world.make_pass()
    world.status.revoke(revoked_claims.serial)
    unknown_key, _ = world.make_pass(key=KeyPair.generate())
    altered = tamper(world.make_pass()[0])
    not_yet, _ = world.make_pass(not_before=world.now + 3600)
    seed_store(tmp_path / "device", world)

    images = tmp_path / "frames"
    images.mkdir()
    cases = {
        "01_valid": (valid, Reason.VALID),
        "02_expired": (expired, Reason.EXPIRED),
        "03_revoked": (revoked, Reason.REVOKED),
        "04_forged_unknown_key": (unknown_key, Reason.UNKNOWN_KEY),
        "05_forged_altered": (altered, Reason.BAD_SIGNATURE),
        "06_not_yet_valid": (not_yet, Reason.NOT_YET_VALID),
        "07_foreign": ("https://line.me/R/ti/p/@example", Reason.NOT_OURS),
    }
    for i, (name, (text, _)) in enumerate(cases.items()):
        frame_file(images, name, png_to_grey(pass_qr_png(text, box_size=5)), seed=i)
    # Damage inside what ECC level Q repairs still reads; a torn-away middle does not read at all.
    frame_file(images, "08_damaged_light", damage_qr_png(pass_qr_png(valid, box_size=5), 0.04), seed=8)
    frame_file(images, "09_damaged_heavy", damage_qr_png(pass_qr_png(valid, box_size=5), 0.30), seed=9)

    svc = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    try:
        got: dict[str, list[tuple[Reason, bool]]] = {}
        names = sorted(p.stem for p in images.iterdir())
        with FileSource(images) as source:
            for name, frame in zip(names, source, strict=True):
                got[name] = [(o.reason, o.ok) for o in map(svc.check_pass, svc.decode_frame(frame))]
        for name, (_, reason) in cases.items():
            assert got[name] == [(reason, reason is Reason.VALID)], name
        assert got["08_damaged_light"] == [(Reason.VALID, True)]
        assert got["09_damaged_heavy"] == []  # nothing decoded: no verdict, the officer rescans

        outcome = svc.check_pass(valid)
        assert outcome.holder_name == "陳大明"
        assert outcome.masked_national_id == "A12*5*6*9*"
        assert outcome.valid_until == valid_claims.expires_at
        assert outcome.reason_text_zh == "核准通行"
        assert outcome.trust_age_s is not None and 0 <= outcome.trust_age_s < 600
        assert not outcome.stale
    finally:
        svc.close()


def test_outcome_is_durable_before_return_and_holds_no_full_name(
    service: CheckpointService, world: World
) -> None:
    text, _ = world.make_pass(name="陳大明")
    outcome = service.check_pass(text)
    # A second, independent connection sees the committed row: it is on disk, not in a buffer.
    db_path = service.store.data_dir / "checkpoint.db"
    with sqlite3.connect(db_path) as other:
        row = other.execute(
            "SELECT seq, ok, reason, officer_id, holder_name_masked, state FROM events WHERE event_id = ?",
            [outcome.event_id],
        ).fetchone()
    assert row == (outcome.seq, 1, "valid", "officer-7", "陳*明", "queued")
    service.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in service.store.data_dir.iterdir():
        assert "陳大明".encode() not in path.read_bytes(), path.name


def test_seq_never_resets_across_restarts(tmp_path: Path, world: World) -> None:
    seed_store(tmp_path / "device", world)
    config = CheckpointConfig(data_dir=tmp_path / "device")
    seqs, hlcs = [], []
    for _ in range(3):
        svc = CheckpointService(config)
        for _ in range(2):
            outcome = svc.check_pass(world.make_pass()[0])
            seqs.append(outcome.seq)
        hlcs.append(svc.store.last_hlc())
        svc.close()
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == 3


def test_no_scanning_without_officer(tmp_path: Path, world: World) -> None:
    seed_store(tmp_path / "device", world, with_officer=False)
    svc = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    try:
        assert svc.officer() is None
        with pytest.raises(NoOfficerError):
            svc.check_pass(world.make_pass()[0])
        assert svc.store.counts()["queued"] == 0
    finally:
        svc.close()


def test_stale_policy_refuse_and_flag(tmp_path: Path, world: World) -> None:
    old = world.bundle(issued_at=world.now - 10 * 86400, valid_until=world.now - 3 * 86400)
    text, _ = world.make_pass()
    for policy, expected_ok, expected_reason in (
        ("refuse", False, Reason.TRUST_EXPIRED),
        ("flag", True, Reason.VALID),
    ):
        data = tmp_path / policy
        seed_store(data, world, bundle=old)
        svc = CheckpointService(CheckpointConfig(data_dir=data, stale_policy=policy))
        try:
            outcome = svc.check_pass(text)
            assert (outcome.ok, outcome.reason) == (expected_ok, expected_reason)
            assert outcome.stale is (policy == "flag")  # contract: stale = old data accepted by policy
            assert 10 * 86400 <= outcome.trust_age_s < 10 * 86400 + 600
        finally:
            svc.close()


def test_missing_status_list_is_not_a_pass(tmp_path: Path, world: World) -> None:
    seed_store(tmp_path / "device", world, with_status=False)
    svc = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    try:
        outcome = svc.check_pass(world.make_pass()[0])
        assert (outcome.ok, outcome.reason) == (False, Reason.NO_STATUS)
    finally:
        svc.close()


def test_setting_the_clock_back_does_not_revive_an_expired_pass(tmp_path: Path, world: World) -> None:
    text, _ = world.make_pass(expires_at=world.now + 3600)
    # The last bundle was signed two hours after what this device's clock now says.
    seed_store(tmp_path / "device", world, bundle=world.bundle(issued_at=world.now + 7200))
    svc = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    try:
        outcome = svc.check_pass(text)
        assert (outcome.ok, outcome.reason) == (False, Reason.EXPIRED)
    finally:
        svc.close()


def test_a_bundle_not_signed_by_the_pinned_root_is_not_trusted(tmp_path: Path, world: World) -> None:
    seed_store(tmp_path / "device", world)
    store = Store(tmp_path / "device")
    impostor = KeyPair.generate()
    b = dataclasses.replace(world.bundle(), root_kid=impostor.kid)
    store.save_trust(sign_trust_bundle(b, impostor), b.issued_at, b.valid_until, None)
    store.close()
    svc = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    try:
        assert svc.verifier.trust is None
        # No trusted keys: the officer credential cannot be checked either, so no scanning at all.
        with pytest.raises(NoOfficerError):
            svc.check_pass(world.make_pass()[0])
        assert svc.verifier.check(world.make_pass()[0], world.now).reason is Reason.TRUST_EXPIRED
    finally:
        svc.close()


def test_outcome_repr_does_not_carry_the_full_name(service: CheckpointService, world: World) -> None:
    outcome = service.check_pass(world.make_pass(name="陳大明")[0])
    assert outcome.holder_name == "陳大明"
    assert "陳大明" not in repr(outcome) and "陳大明" not in str(outcome)


def test_before_enrolment_and_before_the_first_sync_every_pass_needs_trust_data(
    tmp_path: Path, world: World
) -> None:
    valid, _ = world.make_pass()
    store = Store(tmp_path / "device")
    try:
        fresh = Verifier(store, accept_stale=True)  # nothing stored yet
        assert fresh.trust is None and fresh.issuer_keys(world.issuer.kid) == []
        assert fresh.check(valid, world.now).reason is Reason.TRUST_EXPIRED
        # Enrolled, but the first sync has not brought a bundle yet.
        store.save_device(DEVICE_ID, "cp", "http://127.0.0.1:9", world.root.public_key, "00")
        enrolled = Verifier(store, accept_stale=True)
        assert enrolled.trust is None
        assert enrolled.check(valid, world.now).reason is Reason.TRUST_EXPIRED
    finally:
        store.close()
