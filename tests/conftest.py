"""Suite-wide ordering: tests on pytest-playwright's fixtures run last.

pytest-playwright keeps one sync Playwright (and the asyncio loop it drives) alive from the first test that
asks for `page` until the session ends. Any later test that starts its own `sync_playwright()` or calls
`asyncio.run()` then fails ("Sync API inside the asyncio loop", "cannot be called from a running event
loop"). Running those tests after every other keeps both kinds working in one `pytest` run.
"""

from __future__ import annotations

import pytest

# `browser` is left out on purpose: the LIFF tests define their own module-scoped `browser` whose
# sync_playwright() closes at the module's end.
PLAYWRIGHT_SESSION_FIXTURES = {"page", "context", "playwright", "browser_type"}


def _on_playwright_session(item: pytest.Item) -> bool:
    return bool(PLAYWRIGHT_SESSION_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_on_playwright_session)  # stable: the order within each group is kept
