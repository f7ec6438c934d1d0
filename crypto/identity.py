"""Taiwanese identifiers: national ID, resident certificate, 統一編號 (UBN), and masking.

Validators answer True/False and never raise; maskers always return a string, so that a
wrong input can be shown (masked) in an error message without leaking it.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Letter -> two-digit area code, as printed on the back of every 身分證 guide.
# Note I, O, W, X, Y, Z are out of alphabetical order (late-added areas).
_AREA_CODES = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}  # fmt: skip
_DIGIT_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 1)

_NEW_FORM = re.compile(r"[A-Z][1289][0-9]{8}")  # 身分證 (1, 2) and 2021 resident certificate (8, 9)
_OLD_RESIDENT_FORM = re.compile(r"[A-Z][A-D][0-9]{8}")  # pre-2021 居留證 (second letter = sex/area)

# The longest person name anywhere (API fields, .xlsx imports and their templates, the CLI, the
# database columns): one number, so a template never promises less or more than the API takes.
MAX_PERSON_NAME_CHARS = 64

_UBN_FORM = re.compile(r"[0-9]{8}")
_UBN_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)


def normalize_national_id(s: str) -> str:
    """Trim and upper-case, the way people type IDs (a1234...)."""
    return s.strip().upper() if isinstance(s, str) else ""


def _checksum_ok(letter: str, second: int, rest: str) -> bool:
    area = _AREA_CODES[letter]
    total = area // 10 + (area % 10) * 9
    digits = [second] + [int(c) for c in rest[:7]]
    total += sum(d * w for d, w in zip(digits, _DIGIT_WEIGHTS, strict=True))
    total += int(rest[7])
    return total % 10 == 0


class NationalIdProblem(StrEnum):
    """Which check a national ID failed. Its mask looks like a valid ID's, so a refusal names the check."""

    LENGTH = "length"  # not 10 characters
    FORMAT = "format"  # 10 characters, but not letter + 1/2/8/9 (or A-D, old resident) + 8 digits
    CHECKSUM = "checksum"  # the right shape, but the check digit does not match (a typo)

    def explain(self) -> str:
        return _PROBLEM_TEXT[self]


_PROBLEM_TEXT = {
    NationalIdProblem.LENGTH: "length check failed: a national ID has 10 characters",
    NationalIdProblem.FORMAT: "format check failed: a letter, then 1, 2, 8 or 9, then 8 digits",
    NationalIdProblem.CHECKSUM: "checksum failed: the last digit does not match the others (a typo?)",
}


def national_id_problem(s: str, *, allow_old_resident: bool = False) -> NationalIdProblem | None:
    """None for a valid ID (see `is_valid_national_id`), else the first check it fails."""
    if not isinstance(s, str) or len(s) != 10:
        return NationalIdProblem.LENGTH
    if _NEW_FORM.fullmatch(s):
        ok = _checksum_ok(s[0], int(s[1]), s[2:])
    elif allow_old_resident and _OLD_RESIDENT_FORM.fullmatch(s):
        ok = _checksum_ok(s[0], _AREA_CODES[s[1]] % 10, s[2:])
    else:
        return NationalIdProblem.FORMAT
    return None if ok else NationalIdProblem.CHECKSUM


def is_valid_national_id(s: str, *, allow_old_resident: bool = False) -> bool:
    """True for a valid 身分證 number (A123456789) or 2021 resident certificate (A800000014).

    `allow_old_resident` also accepts the pre-2021 resident certificate (second character A-D),
    still found on unexpired cards; its second letter counts with the last digit of its area code.
    """
    return national_id_problem(s, allow_old_resident=allow_old_resident) is None


def is_valid_ubn(s: str) -> bool:
    """True for a valid 統一編號 under the mod-5 rule in force since 2023 (old mod-10 numbers pass too)."""
    if not isinstance(s, str) or not _UBN_FORM.fullmatch(s):
        return False
    total = 0
    for c, w in zip(s, _UBN_WEIGHTS, strict=True):
        p = int(c) * w
        total += p // 10 + p % 10
    if total % 5 == 0:
        return True
    # 7th digit 7: its product 28 sums to 10, which the rule lets count as 1 or as 0.
    return s[6] == "7" and (total + 1) % 5 == 0


def mask_name(name: str) -> str:
    """陳大明 -> 陳*明, 王明 -> 王*, 歐陽大明 -> 歐**明 (first and last character kept)."""
    name = name.strip() if isinstance(name, str) else ""
    if len(name) <= 1:
        return "*" * len(name) or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


_NID_KEEP = frozenset({0, 1, 2, 4, 6, 8})


def mask_national_id(nid: str) -> str:
    """The city's pattern A12*5*6*9*: characters 0, 1, 2, 4, 6, 8 kept (A123456789 -> A12*4*6*8*)."""
    nid = normalize_national_id(nid)
    return "".join(c if i in _NID_KEEP else "*" for i, c in enumerate(nid))


def _local_digits(mobile: str) -> str:
    """For masking only: 0912-345-678, +886 912 345 678 and 886912345678 -> 0912345678; anything else is
    only trimmed. It never refuses (a mask must always print); the one validating normaliser is
    hub.core.phone.normalize_mobile, which returns E.164."""
    if not isinstance(mobile, str):
        return ""
    digits = re.sub(r"[\s\-().]", "", mobile)
    if digits.startswith("+886"):
        digits = "0" + digits[4:]
    elif digits.startswith("886") and len(digits) == 12:
        digits = "0" + digits[3:]
    return digits


_MOBILE_KEEP = frozenset({0, 1, 5, 9})


def mask_mobile(mobile: str) -> str:
    """The city's pattern 09***6***5: characters 0, 1, 5, 9 kept (0912345678 -> 09***4***8); +886 too."""
    number = _local_digits(mobile)
    if len(number) == 10:
        return "".join(c if i in _MOBILE_KEEP else "*" for i, c in enumerate(number))
    # Not a Taiwanese mobile: keep only the first two and last characters.
    if len(number) <= 3:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 3) + number[-1]
