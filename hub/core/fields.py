"""Validated field types for request bodies: a bad value is a 422 naming the field, never a 500."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated

from annotated_types import Interval
from pydantic import AfterValidator, Field, StringConstraints

from crypto.identity import MAX_PERSON_NAME_CHARS, is_valid_ubn, national_id_problem, normalize_national_id
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
    "RowId",
    "PlainText",
    "Moment",
]


def _national_id(value: str) -> str:
    nid = normalize_national_id(value)
    problem = national_id_problem(nid, allow_old_resident=True)
    if problem is not None:
        raise ValueError(f"not a valid national ID or resident certificate number ({problem.explain()})")
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


# Unicode categories a name never needs: symbols such as emoji (So), invisible format characters such as
# the zero-width joiner inside emoji sequences (Cf), private-use and unassigned code points (Co, Cn),
# lone surrogates (Cs). The fonts that print passes and venue posters have no glyph for them: they came
# out as empty boxes (hub.documents.fonts).
_NOT_IN_NAMES = frozenset({"So", "Cf", "Co", "Cn", "Cs"})
NAME_SYMBOLS_REFUSED = "不可包含表情符號、圖示或看不見的字元（印在通行證與海報上會變成方框），請只用文字。"


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a name (a person's, an organisation's, a venue code's), or None: the one
    rule for what a name may hold, used by every request model and every import."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        return "不可包含控制字元。"
    if any(unicodedata.category(c) in _NOT_IN_NAMES for c in value):
        return NAME_SYMBOLS_REFUSED
    return None


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# A row id from a path, query or body. The upper bound is PostgreSQL's INTEGER, the id columns' type
# (SQLite's limit is 2**63-1): a larger number must be a 422 naming the field, not an out-of-range
# error inside the database driver (a 500).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Interval(ge=1, le=MAX_ROW_ID)]

# Free text with no control characters: PostgreSQL text cannot hold NUL at all (a 500 there, silently
# accepted by SQLite), and a control character in a name, reason or search term is never intended.
PlainText = Annotated[str, AfterValidator(_no_control)]


def _moment(value: dt.datetime) -> dt.datetime:
    # Year 1 at +14:00 or year 9999 at -14:00 parse, then overflow when converted to UTC or to epoch
    # seconds (a 500). Passes and registers only need times between 1970 and 9998.
    try:
        utc = value.astimezone(dt.UTC) if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        utc.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ValueError("time out of range (1970-9998)") from None
    if not 1970 <= utc.year <= 9998:
        raise ValueError("time out of range (1970-9998)")
    return value


Moment = Annotated[dt.datetime, AfterValidator(_moment)]

PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PERSON_NAME_CHARS),
    AfterValidator(_name),
]
OrgName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_name)
]
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_control)
]
# Required (docs/requirements.md): venue-code names are at most 8 characters. That rule is
# hub.services.venues' (check_names), which names the name that is too long in words; this type only
# bounds what a request may carry.
VenueName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_name)
]
NationalId = Annotated[str, Field(min_length=10, max_length=12), AfterValidator(_national_id)]
Ubn = Annotated[str, Field(min_length=8, max_length=10), AfterValidator(_ubn)]
OtpCodeText = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
