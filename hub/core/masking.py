"""Masking policy for personal data in every output: the city's patterns by default."""

from __future__ import annotations

from crypto.identity import mask_mobile, mask_name

__all__ = ["mask_mobile", "mask_name", "show_name", "show_mobile"]


def show_name(name: str, unmasked: bool) -> str:
    return name if unmasked else mask_name(name)


def show_mobile(mobile_e164: str, unmasked: bool) -> str:
    """In clear a Taiwanese number is shown the local way (0912345678), as people know it."""
    if unmasked:
        return "0" + mobile_e164[4:] if mobile_e164.startswith("+886") else mobile_e164
    return mask_mobile(mobile_e164)
