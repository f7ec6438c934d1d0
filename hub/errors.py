"""One exception for every refusal the hub makes, rendered as `{"error": reason, "detail", "message"}`.

`error` is the machine-readable reason; `message` is the same refusal for a person, in the language the
request's `Accept-Language` asks for (zh-TW unless English is preferred; hub.i18n.refusals).

Validation errors are rendered the same way, without echoing the input back: a rejected body may
hold a national ID or a mobile number, and responses end up in logs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.i18n import catalogue, refusals
from hub.services import errors as domain


class HubError(Exception):
    """A refusal with an HTTP status, a machine-readable reason and a human-readable detail."""

    def __init__(
        self, status_code: int, reason: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status_code} {reason}: {detail}")
        self.status_code = status_code
        self.reason = reason
        self.detail = detail
        self.headers = headers


class ErrorOut(BaseModel):
    """Every refusal's body."""

    error: str = Field(description="machine-readable reason, e.g. invalid_request, not_found, forbidden")
    detail: Any = Field(None, description="what was wrong; never echoes personal data from the request")
    message: str = Field(
        "", description="the refusal for a person, in the language of Accept-Language (zh-TW by default)"
    )


# The refusals any /api/v1 route may make, documented once for the whole API (the router's `responses`),
# so clients and contract tests know a 4xx body's shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "bad request (e.g. a malformed value the route checks itself)",
        401: "no valid bearer token",
        403: "not allowed for this user, organisation or device",
        404: "no such row (or not visible to this user)",
        409: "conflicts with existing data",
        410: "gone (used or expired one-time token)",
        413: "request body too large",
        415: "unsupported upload type",
        422: "invalid request (validation; lists each field's problem, never its value)",
        429: "too many requests; the body's retry_after and the Retry-After header say how long to wait",
        503: "unavailable now (e.g. the SMS gateway failed); retry_after and Retry-After say when to retry",
    }.items()
}


def language_of(request: Request) -> str:
    """The language a REST caller reads (`Accept-Language`; zh-TW by default)."""
    return catalogue.from_accept_language(request.headers.get("accept-language"))


def _hub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    message = refusals.status_message(language_of(request), exc.status_code, exc.reason)
    return JSONResponse(
        {"error": exc.reason, "detail": exc.detail, "message": message},
        status_code=exc.status_code,
        headers=exc.headers,
    )


# The one place a domain refusal becomes an HTTP status.
DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.Invalid: 400,
    domain.Rejected: 422,
    domain.NotAuthenticated: 401,
    domain.NotAllowed: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.Gone: 410,
    domain.TooLarge: 413,
    domain.TooManyRequests: 429,
    domain.Unavailable: 503,
}


def http_status_of(exc: domain.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]  # type: ignore[index]
    return 400


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    headers: dict[str, str] = {}
    message = refusals.domain_message(language_of(request), exc)
    body: dict[str, Any] = {"error": exc.reason, "detail": exc.detail, "message": message}
    if isinstance(exc, domain.NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, domain.Invalid) and exc.field:
        body["field"] = exc.field
    if isinstance(exc, domain.TooManyRequests | domain.Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
        body["retry_after"] = exc.retry_after
    return JSONResponse(body, status_code=http_status_of(exc), headers=headers or None)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = language_of(request)
    errors = [
        {
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
            "message": refusals.validation_problem(language, e),
        }
        for e in exc.errors()
    ]
    message = refusals.validation_message(language, exc.errors())
    return JSONResponse({"error": "invalid_request", "detail": errors, "message": message}, status_code=422)


_HTTP_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason = _HTTP_REASONS.get(exc.status_code, "error")
    if isinstance(exc.detail, dict) and "error" in exc.detail:
        body = exc.detail
    else:
        body = {"error": reason, "detail": exc.detail}
    if "message" not in body:
        message = refusals.status_message(language_of(request), exc.status_code, str(body["error"]))
        body = {**body, "message": message}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
