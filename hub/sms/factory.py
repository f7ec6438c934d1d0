"""Build the configured gateway from plain settings (the hub's ``HUB_SMS_*`` values)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.sms.dev import ConsoleGateway, FileGateway
from hub.sms.every8d import Every8dGateway
from hub.sms.gateway import SmsError, SmsGateway
from hub.sms.mitake import MitakeGateway

_BUILDERS: dict[str, tuple[Callable[..., SmsGateway], frozenset[str], frozenset[str]]] = {
    # kind: (constructor, required options, optional options)
    "console": (ConsoleGateway, frozenset(), frozenset({"show_text", "stream"})),
    "file": (FileGateway, frozenset({"path"}), frozenset()),
    "every8d": (
        Every8dGateway,
        frozenset({"uid", "password"}),
        frozenset({"base_url", "timeout", "subject"}),
    ),
    "mitake": (MitakeGateway, frozenset({"username", "password"}), frozenset({"base_url", "timeout"})),
}


def gateway_from_settings(kind: str, **options: Any) -> SmsGateway:
    """``gateway_from_settings("mitake", username=..., password=..., timeout=5)``.

    Options set to None count as not given, so a settings object can pass all its SMS fields; an option
    the kind does not know, or a missing required one, is a configuration error (SmsError).
    """
    key = (kind or "").strip().lower()
    if key not in _BUILDERS:
        raise SmsError(f"unknown SMS gateway kind {kind!r}; use one of: {', '.join(sorted(_BUILDERS))}")
    build, required, optional = _BUILDERS[key]
    given = {name: value for name, value in options.items() if value is not None}
    unknown = set(given) - required - optional
    if unknown:
        raise SmsError(f"SMS gateway {key!r} does not take: {', '.join(sorted(unknown))}")
    missing = {name for name in required if given.get(name) in (None, "")}
    if missing:
        raise SmsError(f"SMS gateway {key!r} needs: {', '.join(sorted(missing))}")
    if "timeout" in given:
        try:
            given["timeout"] = float(given["timeout"])
        except (TypeError, ValueError) as exc:
            raise SmsError(f"SMS gateway {key!r}: timeout must be a number of seconds") from exc
    return build(**given)
