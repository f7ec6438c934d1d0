"""The typed ID is checked against the pass's visible characters and the checksum, and never kept."""

from __future__ import annotations

import logging

import pytest

from checkpoint_app.idcheck import check_typed_id, visible_characters_match
from checkpoint_app.models import IdCheckResult
from checkpoint_app.service import CheckpointService
from crypto.identity import is_valid_national_id, mask_national_id
from tests.checkpoint_app.cpworld import World


def with_check_digit(first9: str) -> str:
    for d in "0123456789":
        if is_valid_national_id(first9 + d):
            return first9 + d
    raise AssertionError("no check digit")


HOLDER = with_check_digit("A12345678")  # A123456789
SAME_MASK_OTHER_PERSON = with_check_digit("A12453627")  # visible 0,1,2,4,6,8 differ at 4


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (HOLDER, IdCheckResult.MATCH),
        (HOLDER.lower(), IdCheckResult.MATCH),
        (f" {HOLDER[:4]}-{HOLDER[4:]} ", IdCheckResult.MATCH),
        (HOLDER[:-1] + str((int(HOLDER[-1]) + 1) % 10), IdCheckResult.INVALID),  # typo: checksum
        (HOLDER[:9], IdCheckResult.INVALID),
        ("", IdCheckResult.INVALID),
        (SAME_MASK_OTHER_PERSON, IdCheckResult.MISMATCH),
    ],
)
def test_check_typed_id(typed: str, expected: IdCheckResult) -> None:
    result = check_typed_id(mask_national_id(HOLDER), typed)
    assert result.result is expected
    assert result.ok is (expected is IdCheckResult.MATCH)
    assert result.message_zh and result.message_en


def test_hidden_positions_cannot_be_checked() -> None:
    # Position 3 and the check digit are masked on the pass: a number differing only there matches.
    # That is the limit of a masked pass, and why the officer also compares name and photo.
    other = with_check_digit(HOLDER[:3] + str((int(HOLDER[3]) + 1) % 10) + HOLDER[4:9])
    assert other != HOLDER
    assert visible_characters_match(mask_national_id(HOLDER), other)
    assert check_typed_id(mask_national_id(HOLDER), other).result is IdCheckResult.MATCH


def test_no_pass_to_compare() -> None:
    assert check_typed_id(None, HOLDER).result is IdCheckResult.NO_PASS


def test_service_check_id_never_stores_or_logs(
    service: CheckpointService, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcome = service.check_pass(world.make_pass(masked_id=mask_national_id(HOLDER))[0])
    assert service.check_id(outcome, HOLDER).ok
    assert not service.check_id(outcome, SAME_MASK_OTHER_PERSON).ok
    service.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in service.store.data_dir.iterdir():
        data = path.read_bytes()
        assert HOLDER.encode() not in data and SAME_MASK_OTHER_PERSON.encode() not in data, path.name
    assert HOLDER not in caplog.text
