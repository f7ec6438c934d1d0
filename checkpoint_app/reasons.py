"""Words for each verdict reason, Traditional Chinese first (the officer's language), English second.

Keyed by the Reason's string value so this module needs nothing from crypto to import.
"""

from __future__ import annotations

_TEXTS: dict[str, tuple[str, str]] = {
    "valid": ("核准通行", "Pass approved"),
    "not_ours": ("非本系統通行碼", "Not a Checkpass pass"),
    "bad_encoding": ("通行碼無法判讀（損毀或偽造）", "Unreadable pass (damaged or forged)"),
    "unknown_key": ("簽發單位不明（疑似偽造）", "Unknown issuer key (possibly forged)"),
    "bad_signature": ("簽章不符（偽造或遭竄改）", "Signature invalid (forged or altered)"),
    "key_retired": ("簽發金鑰已停用", "Issuer key retired"),
    "key_compromised": ("簽發金鑰已撤銷（疑似偽造）", "Issuer key compromised"),
    "not_yet_valid": ("通行碼尚未生效", "Pass not yet valid"),
    "expired": ("通行碼已過期", "Pass expired"),
    "revoked": ("通行碼已註銷", "Pass revoked"),
    "trust_expired": ("信任資料過期，請連線同步", "Trust data expired: sync needed"),
    "no_status": ("無註銷清單，無法確認", "No revocation list: cannot confirm"),
}


def reason_text(reason: str) -> tuple[str, str]:
    """(zh, en) for a verdict reason; an unknown reason still gets a refusal text, never a blank."""
    return _TEXTS.get(str(reason), ("無法核准", f"Refused ({reason})"))


STALE_TEXT = ("信任資料已過期（僅供參考）", "Trust data out of date (flagged)")
