"""Validated field types for request bodies: a bad value is a 422 naming the field, never a 500."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from crypto.identity import is_valid_national_id, is_valid_ubn, normalize_national_id
from hub.core.phone import Mobile, Phone

__all__ = [
    "Mobile",
    "Phone",
    "NationalId",
    "PersonName",
    "Ubn",
    "OtpCodeText",
    "VenueName",
    "OrgName",
    "Address",
]


def _national_id(value: str) -> str:
    nid = normalize_national_id(value)
    if not is_valid_national_id(nid, allow_old_resident=True):
        raise ValueError("not a valid national ID or resident certificate number")
    return nid


def _ubn(value: str) -> str:
    value = value.strip()
    if not is_valid_ubn(value):
        raise ValueError("not a valid 統一編號 (8 digits, checksum)")
    return value


def _no_control(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters are not allowed")
    return value


PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(_no_control)
]
OrgName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_no_control)
]
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_control)
]
# The seed: venue-code names are at most 8 characters.
VenueName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8), AfterValidator(_no_control)
]
NationalId = Annotated[str, Field(min_length=10, max_length=12), AfterValidator(_national_id)]
Ubn = Annotated[str, Field(min_length=8, max_length=10), AfterValidator(_ubn)]
OtpCodeText = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
