"""Fixtures for the checkpoint core's tests; the helpers they use live in cpworld.py.

(Test modules import helpers from cpworld, never from conftest: with several conftest.py files in
one run, the module named "conftest" is whichever was loaded last.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint_app.service import CheckpointConfig, CheckpointService
from tests.checkpoint_app.cpworld import World, seed_store


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def service(tmp_path: Path, world: World) -> Iterator[CheckpointService]:
    seed_store(tmp_path / "device", world)
    svc = CheckpointService(CheckpointConfig(data_dir=tmp_path / "device"))
    yield svc
    svc.close()
