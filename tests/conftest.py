"""Suite-wide: argon2id at its lowest cost, and tests on pytest-playwright's fixtures run last.

Argon2id: the suite creates accounts and opens key files in almost every test, each an argon2id derivation
of 64 MiB at the product's cost (about 0.2 s here, several seconds when every core is busy). Hashes and
key files record their own cost, so the code that verifies and opens them runs unchanged; the product's
own cost is held by tests/crypto/test_kdf_costs.py in a fresh interpreter, and every test that starts the
hub as a process (the demo, `hub serve`, the field rehearsal) runs it at full cost.

Ordering:

pytest-playwright keeps one sync Playwright (and the asyncio loop it drives) alive from the first test that
asks for `page` until the session ends. Any later test that starts its own `sync_playwright()` or calls
`asyncio.run()` then fails ("Sync API inside the asyncio loop", "cannot be called from a running event
loop"). Running those tests after every other keeps both kinds working in one `pytest` run.
"""

from __future__ import annotations

import nacl.pwhash
import pytest

import crypto.keys
import hub.services.identity


def pytest_configure(config: pytest.Config) -> None:
    for module, prefix in ((crypto.keys, "KDF"), (hub.services.identity, "PASSWORD")):
        setattr(module, f"{prefix}_OPSLIMIT", nacl.pwhash.argon2id.OPSLIMIT_MIN)
        setattr(module, f"{prefix}_MEMLIMIT", nacl.pwhash.argon2id.MEMLIMIT_MIN)


# `browser` is left out on purpose: the LIFF tests define their own module-scoped `browser` whose
# sync_playwright() closes at the module's end.
PLAYWRIGHT_SESSION_FIXTURES = {"page", "context", "playwright", "browser_type"}


def _on_playwright_session(item: pytest.Item) -> bool:
    return bool(PLAYWRIGHT_SESSION_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_on_playwright_session)  # stable: the order within each group is kept
