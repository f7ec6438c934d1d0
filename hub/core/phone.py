"""Mobile numbers: people are identified by them, stored as E.164, default region Taiwan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import AfterValidator, Field

DEFAULT_REGION = "TW"
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidMobile(ValueError):
    pass


def _parse_valid(text: str, region: str, not_one: str) -> phonenumbers.PhoneNumber:
    """A valid number parsed from `text`; InvalidMobile(`not_one`) if it does not look like one at all."""
    if not isinstance(text, str) or not text.strip() or len(text) > 32:
        raise InvalidMobile(not_one)
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobile(not_one) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidMobile("not a valid phone number")
    return number


def normalize_mobile(text: str, region: str = DEFAULT_REGION) -> str:
    """`0912-345-678`, `+886 912 345 678` -> `+886912345678`; InvalidMobile unless a valid mobile number."""
    number = _parse_valid(text, region, "not a mobile number")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidMobile("not a mobile number (SMS cannot reach it)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """Any valid phone number (landlines too: an organisation's contact number) -> E.164."""
    number = _parse_valid(text, region, "not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _pydantic_check(normalize: Callable[[str], str]) -> Callable[[str], str]:
    """`normalize` for a request model: a bad number is a ValueError, which pydantic reports as a 422."""

    def check(value: str) -> str:
        try:
            return normalize(value)
        except InvalidMobile as exc:
            raise ValueError(str(exc)) from None

    return check


# For request models: validated and normalised to E.164 by pydantic, so a bad number is a 422.
Mobile = Annotated[str, Field(min_length=4, max_length=32), AfterValidator(_pydantic_check(normalize_mobile))]
Phone = Annotated[str, Field(min_length=4, max_length=32), AfterValidator(_pydantic_check(normalize_phone))]
