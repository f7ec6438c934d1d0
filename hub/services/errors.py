"""The refusals the hub's domain makes, in its own words: no HTTP, no chat, no HTML.

Every front end (REST's exception handler, the CLI in `hub.cli`, LINE and the console) maps these once to its
own answer. `reason` is the stable machine-readable word a client may branch on (it is the `error` field
of a REST body); `detail` is a developer's note in English and never holds personal data from the request.
What a person reads comes from the message catalogue (`hub.i18n.refusals`): by `message_key` when the
reason alone does not say which rule was broken, else by reason and `field`, filled with `params` (a limit,
a count).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal a service makes.

    `keep` holds audit entries that must outlive the refusal: the unit of work
    (`hub.services.unit_of_work`) rolls back everything the refused command did, then writes these and
    commits them (every import is audited, a refused one too).
    """

    default_reason = "refused"

    def __init__(
        self,
        detail: Any = None,
        *,
        reason: str | None = None,
        message_key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.reason = reason or self.default_reason
        self.detail = detail
        self.message_key = message_key
        self.params = params or {}
        self.keep: list[dict[str, Any]] = []
        super().__init__(f"{self.reason}: {detail}")

    def audited(self, action: str, **entry: Any) -> DomainError:
        """Ask the unit of work to record `action` (arguments of `hub.services.audit.record`) after
        rolling back; returns self, to be raised."""
        self.keep.append({"action": action, **entry})
        return self


class NotAuthenticated(DomainError):
    """The caller could not be identified (no, unknown, expired or wrong credentials, bad signature)."""

    default_reason = "not_authenticated"


class NotAllowed(DomainError):
    """The caller is known but its role, permission or scope does not cover this."""

    default_reason = "forbidden"


class NotFound(DomainError):
    """No such thing, or none the caller may see (the two are not told apart)."""

    default_reason = "not_found"

    def __init__(self, what: str = "item", *, reason: str | None = None, detail: str | None = None) -> None:
        self.what = what  # the kind of thing, named to a person as `thing.<what>` in the catalogue
        super().__init__(detail or f"{what} not found", reason=reason)


class Conflict(DomainError):
    """The request clashes with what exists (a duplicate, an already revoked pass)."""

    default_reason = "conflict"


class Gone(DomainError):
    """A one-time thing that was used or has expired (enrolment token, SMS code)."""

    default_reason = "gone"


class Invalid(DomainError):
    """The input is wrong; `field` names the offending field when there is one."""

    default_reason = "invalid_request"

    def __init__(
        self,
        detail: Any = None,
        *,
        field: str | None = None,
        reason: str | None = None,
        message_key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.field = field
        super().__init__(detail, reason=reason, message_key=message_key, params=params)


class Rejected(Invalid):
    """The input is well formed but its content is refused: a signature that does not verify, an expired
    bundle, a key of the wrong length, a batch that breaks the rules, a file with bad rows."""

    default_reason = "rejected"


class Unavailable(DomainError):
    """The hub cannot do this now through no fault of the request (keys locked, no trust bundle, the SMS
    provider down); `retry_after` says in how many seconds trying again makes sense."""

    default_reason = "unavailable"

    def __init__(self, detail: Any = None, *, reason: str | None = None, retry_after: int = 60) -> None:
        self.retry_after = retry_after
        super().__init__(detail, reason=reason)


class TooLarge(DomainError):
    """The input is over a configured size limit."""

    default_reason = "too_large"


class TooManyRequests(DomainError):
    """A rate limit or throttle; `retry_after` says in how many seconds to try again."""

    default_reason = "too_many_requests"

    def __init__(self, detail: Any = None, *, retry_after: int, reason: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail, reason=reason)
