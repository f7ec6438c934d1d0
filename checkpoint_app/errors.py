"""One exception family for the checkpoint core; messages are safe to show (no personal data)."""


class CheckpointError(Exception):
    """Base class; str(e) is a short English message fit for a screen or a log line."""


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
