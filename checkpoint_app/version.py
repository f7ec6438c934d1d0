"""The app's version, as the hub sees it in every upload (docs/checkpoint-sync.md, "Device report").

It comes from the installed package's metadata (pyproject.toml's `version`), so there is one place to
bump it. A build without package metadata (an APK made by buildozer from the source tree) says so
rather than guess.
"""

from __future__ import annotations

import importlib.metadata

PACKAGE = "checkpass"
UNKNOWN = "0+unknown"  # a valid version string (PEP 440 local label): the hub accepts it


def app_version() -> str:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN
