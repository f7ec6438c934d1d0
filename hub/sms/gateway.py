"""The SMS edge of the hub: one small interface, one exception, one receipt.

Every gateway takes the mobile number in E.164 (``+886912345678``), the form the hub stores, and turns it
into whatever its provider expects. Callers handle one exception, :class:`SmsError`, for anything that
means "the text did not leave": a network failure, an HTTP error, a reply nobody can read, or a provider
refusing the account (wrong password, no credit, service down). A provider that understood the request but
will not deliver to *this* recipient answers with a receipt whose ``accepted`` is ``False``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crypto.identity import mask_mobile

# Taiwan mobiles only: the two providers are Taiwanese and the city identifies people by a Taiwan mobile.
_TW_MOBILE_E164 = re.compile(r"^\+8869\d{8}$")


class SmsError(Exception):
    """The text could not be handed to the provider. The message never holds a mobile in clear."""


@dataclass(frozen=True)
class SmsReceipt:
    provider: str  # "console", "file", "every8d", "mitake"
    message_id: str | None  # the provider's id for this message (batch id / msgid), if it gave one
    accepted: bool  # the provider took the message for delivery
    detail: str  # short human-readable note, safe to log (no mobile, no text)


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, mobile_e164: str, text: str) -> SmsReceipt:
        """Send ``text`` to ``mobile_e164``; raise :class:`SmsError` if it could not be handed over."""
        ...


def check_e164(mobile_e164: str) -> str:
    """Return the number unchanged if it is a Taiwan mobile in E.164, else raise SmsError."""
    if not isinstance(mobile_e164, str) or not _TW_MOBILE_E164.match(mobile_e164):
        # The bad value is not echoed: it may still be someone's number.
        raise SmsError("not a Taiwan mobile number in E.164 form (+8869xxxxxxxx)")
    return mobile_e164


def to_local_mobile(mobile_e164: str) -> str:
    """``+886912345678`` -> ``0912345678``, the national form both Taiwanese providers document."""
    return "0" + check_e164(mobile_e164)[4:]


def check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise SmsError("the SMS text is empty")
    return text


def masked(mobile_e164: str) -> str:
    """The city's masked form, for logs and messages; call only after :func:`check_e164`."""
    return mask_mobile(mobile_e164)
