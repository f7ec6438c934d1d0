"""Refusals and validation problems in words, one formatter for every front end (REST's `message`, the
console, LIFF pages through REST, chat).

A person never reads a service's English `detail`, a raw field name or Pydantic's `loc: msg`: each
refusal is looked up in the catalogue, most specific first, and falls back to its kind's plain sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hub.i18n import catalogue
from hub.services import errors as domain

# Route-level refusals (hub.errors.HubError, Starlette's HTTPException) have a status, not a DomainError kind.
_STATUS_REASONS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "unavailable",
}

# Pydantic error types that say the same thing to a person.
_VALIDATION_ALIASES = {
    "string_pattern_mismatch": "value_error",
    "assertion_error": "value_error",
    "enum": "value_error",
    "literal_error": "value_error",
    "uuid_parsing": "value_error",
    "datetime_parsing": "value_error",
    "datetime_from_date_parsing": "value_error",
    "date_parsing": "value_error",
    "int_parsing": "int_parsing",
    "int_type": "int_parsing",
    "int_from_float": "int_parsing",
    "string_type": "value_error",
    "list_type": "value_error",
    "bool_parsing": "value_error",
    "greater_than": "greater_than_equal",
    "less_than": "less_than_equal",
    "json_invalid": "json_invalid",
}
_VALIDATION_LOCATIONS = {"body", "query", "path", "form", "header", "cookie"}


def field_name(language: str, field: str | None) -> str:
    """A field as a person calls it (「身分證字號」), or a neutral 「此欄位」 for one the catalogue lacks."""
    key = f"field.{field}" if field else "field.unknown"
    return catalogue.text(language, key if catalogue.has(key) else "field.unknown")


def _first(language: str, keys: Iterable[str], values: Mapping[str, Any]) -> str | None:
    for key in keys:
        if catalogue.has(key):
            try:
                return catalogue.text(language, key, **values)
            except (KeyError, IndexError):  # needs a value this refusal does not carry: a plainer one
                continue
    return None


def _kind_reason(exc: domain.DomainError) -> str:
    for cls in type(exc).__mro__:
        if issubclass(cls, domain.DomainError) and "default_reason" in cls.__dict__:
            return str(cls.__dict__["default_reason"])
    return domain.DomainError.default_reason


def refusal_message(
    language: str,
    reason: str,
    *,
    field: str | None = None,
    message_key: str | None = None,
    kind: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The sentence for a refusal, the first the catalogue has: `message_key`, `refusal.<reason>.<field>`,
    `refusal.<reason>` (unless it is just the kind), `refusal.field_invalid` (when a field is named),
    `refusal.<kind>`, `refusal.refused`."""
    values: dict[str, Any] = {"field": field_name(language, field), **(params or {})}
    keys = [message_key] if message_key else []
    if field:
        keys.append(f"refusal.{reason}.{field}")
    if reason != kind:  # a kind's own word (invalid_request) says less than the field's name
        keys.append(f"refusal.{reason}")
    if field:
        keys.append("refusal.field_invalid")
    keys.append(f"refusal.{kind or reason}")
    keys.append("refusal.refused")
    found = _first(language, keys, values)
    assert found is not None, "refusal.refused is missing from the catalogue"
    return found


def domain_message(language: str, exc: domain.DomainError) -> str:
    params = dict(exc.params)
    if isinstance(exc, domain.NotFound):
        thing = f"thing.{exc.what.replace(' ', '_')}"
        params.setdefault("thing", catalogue.text(language, thing if catalogue.has(thing) else "thing.item"))
    if isinstance(exc, domain.TooManyRequests):
        params.setdefault("wait", duration(language, exc.retry_after))
    return refusal_message(
        language,
        exc.reason,
        field=getattr(exc, "field", None),
        message_key=exc.message_key,
        kind=_kind_reason(exc),
        params=params,
    )


def status_message(language: str, status_code: int, reason: str) -> str:
    """A route's own refusal (an HTTP status and a reason word)."""
    return refusal_message(language, reason, kind=_STATUS_REASONS.get(status_code, "refused"))


def validation_problem(language: str, error: Mapping[str, Any]) -> str:
    """One Pydantic error in words: 「實聯碼名稱（第 2 個）：最多 8 個字」."""
    loc: Sequence[Any] = error.get("loc") or ()
    names = [p for p in loc if isinstance(p, str) and p not in _VALIDATION_LOCATIONS]
    positions = [p for p in loc if isinstance(p, int)]
    field = field_name(language, names[-1] if names else None)
    if positions:
        field = catalogue.text(language, "validation.item", field=field, n=positions[-1] + 1)
    kind = str(error.get("type", ""))
    kind = _VALIDATION_ALIASES.get(kind, kind)
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int | float | str)}
    key = f"validation.{kind}"
    if names and catalogue.has(f"{key}.{names[-1]}"):
        key = f"{key}.{names[-1]}"
    if not catalogue.has(key):
        key = "validation.other"
    try:
        return catalogue.text(language, key, field=field, **ctx)
    except (KeyError, IndexError):  # a limit the message needs but this error type did not give
        return catalogue.text(language, "validation.other", field=field)


def validation_message(language: str, errors: Iterable[Mapping[str, Any]]) -> str:
    """Every field's problem, each once, joined as a person reads a list."""
    seen: list[str] = []
    for error in errors:
        problem = validation_problem(language, error)
        if problem not in seen:
            seen.append(problem)
    return catalogue.text(language, "validation.separator").join(seen)


def duration(language: str, seconds: int) -> str:
    """A length of time as a person says it, in its largest whole unit: 「2 小時」, "45 min"."""
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return catalogue.text(language, f"duration.{unit}", n=seconds // size)
    return catalogue.text(language, "duration.seconds", n=max(0, seconds))
