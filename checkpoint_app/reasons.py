"""Words for each verdict reason, Traditional Chinese first (the officer's language), English second.

The words are the message catalogue's `checkpoint.verdict.<reason>` (docs/i18n.md), keyed by the Reason's
string value so this module needs nothing from crypto to import.
"""

from __future__ import annotations

import catalogue

VERDICT = "checkpoint.verdict."


def reason_text(reason: str) -> tuple[str, str]:
    """(zh, en) for a verdict reason; an unknown reason still gets a refusal text, never a blank."""
    key = VERDICT + str(reason)
    if not catalogue.has(key):
        key = VERDICT + "unknown"
    return catalogue.text("zh-TW", key), catalogue.text("en", key)
