"""One exception family for the checkpoint core; messages are safe to show (no personal data).

Each error names a message of `checkpoint_app.messages` (`key`, `values`): the screen shows it in
the officer's language, `str()` gives the English text for logs and tests.
"""

from __future__ import annotations

from checkpoint_app.messages import MESSAGES, text


class CheckpointError(Exception):
    """Base class; `key` names the message, str(e) is its English text."""

    def __init__(self, key: str, **values: object) -> None:
        if key not in MESSAGES:
            raise KeyError(f"no message {key!r} in checkpoint_app.messages")  # a programming error
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
