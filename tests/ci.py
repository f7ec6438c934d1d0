"""Whether this run is CI, where a test that needs a component (PostgreSQL, Xvfb, Chromium, libzbar, a
font, a tool) must run: a missing component fails the test instead of skipping it.

CI systems set `CI` to `true` (GitHub, GitLab) or `1` (others, and `CI=1 make test` by hand); any of the
usual true spellings counts. One function, so that no guard accepts one spelling and misses another.
"""

from __future__ import annotations

import os

import pytest

_TRUE = {"1", "true", "yes", "on"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in _TRUE


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI, fail: the component is part of the machine `scripts/bootstrap` sets up."""
    if in_ci():
        pytest.fail(f"CI is set but {reason}: this test must run in CI")
    pytest.skip(reason)
