"""One exception family for the checkpoint core; messages are safe to show (no personal data).

Each error names a refusal of the message catalogue (`key`, `values`; the catalogue's
`checkpoint.refusal.<key>`, docs/i18n.md): the screen shows it in the officer's language, `str()` gives
the English text for logs and tests. Nothing from the hub's own English answer reaches the screen: the
hub's reason is mapped to a key, its detail goes to the log only.
"""

from __future__ import annotations

import catalogue

REFUSAL = "checkpoint.refusal."


def text(key: str, lang: str, values: dict[str, object] | None = None) -> str:
    """The refusal `key` in `lang` ("zh" or "en"), formatted with `values`."""
    return catalogue.text(lang, REFUSAL + key, **(values or {}))


class CheckpointError(Exception):
    """Base class; `key` names the message, str(e) is its English text."""

    def __init__(self, key: str, **values: object) -> None:
        if not catalogue.has(REFUSAL + key):
            raise KeyError(f"no message {REFUSAL + key!r} in the catalogue")  # a programming error
        self.key = key
        self.values = values
        super().__init__(text(key, "en", values))

    def text(self, lang: str) -> str:
        return text(self.key, lang, self.values)


class NotEnrolledError(CheckpointError):
    """The device has no key/root pin yet: run enrolment first."""


class AlreadyEnrolledError(CheckpointError):
    pass


class EnrolmentError(CheckpointError):
    """The enrolment QR or the hub's answer was wrong; nothing was stored."""


class NoOfficerError(CheckpointError):
    """No valid officer credential: scanning is not allowed."""


class LoginError(CheckpointError):
    """The hub refused an officer login step (not on the roster, wrong code, ...)."""


class HubUnavailableError(CheckpointError):
    """The hub could not be reached (offline); retry later."""


class InputError(CheckpointError, ValueError):
    """Bad input from the user (empty name, malformed mobile, ...)."""
