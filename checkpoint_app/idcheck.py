"""Compare an ID number the officer typed with the pass's visible (unmasked) characters.

The typed number lives only in this call: it is not stored, logged or put in the result.
"""

from __future__ import annotations

import catalogue
from checkpoint_app.models import IdCheck, IdCheckResult
from crypto.identity import is_valid_national_id

RESULT = "checkpoint.idcheck."  # + the result's value: the words of each result (docs/i18n.md)


def _normalise(typed: str) -> str:
    # Officers type on phone keyboards: tolerate case, spaces and dashes, nothing else.
    return "".join(ch for ch in typed.strip().upper() if ch not in " -")


def visible_characters_match(masked: str, typed: str) -> bool:
    """Every character the mask shows equals the typed one, and the lengths agree."""
    if len(masked) != len(typed):
        return False
    return all(m == "*" or m == t for m, t in zip(masked.upper(), typed, strict=True))


def check_typed_id(masked_national_id: str | None, typed_id: str) -> IdCheck:
    if not masked_national_id:
        result, checksum_ok, visible = IdCheckResult.NO_PASS, False, False
    else:
        typed = _normalise(typed_id)
        checksum_ok = is_valid_national_id(typed, allow_old_resident=True)
        visible = visible_characters_match(masked_national_id, typed)
        if not checksum_ok:
            result = IdCheckResult.INVALID
        elif not visible:
            result = IdCheckResult.MISMATCH
        else:
            result = IdCheckResult.MATCH
    zh, en = catalogue.text("zh-TW", RESULT + result.value), catalogue.text("en", RESULT + result.value)
    return IdCheck(
        result=result, checksum_ok=checksum_ok, visible_match=visible, message_zh=zh, message_en=en
    )
