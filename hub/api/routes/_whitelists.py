"""The REST handlers of a whitelist (hub.services.whitelist): list, add, correct, delete, the import sheet
and the import, written once for every kind and registered under each kind's paths by `add_routes`.

Each kind keeps its own path words, parameter names, operation ids and descriptions (the OpenAPI schema
is what clients read): `Names` says them; the handlers' signatures are built with those names, so
FastAPI sees `org_id`/`employee_id` for employees and `station_id`/`officer_id` for duty officers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Response
from sqlalchemy.orm import Session

from hub.api.deps import ScopeDep
from hub.api.routes._common import XLSX_RESPONSE, Upload, patch_changes
from hub.api.routing import APIRouter
from hub.core.fields import RowId
from hub.responses import file_response
from hub.services import downloads
from hub.services.scope import Scope
from hub.services.whitelist import Whitelist
from hub.web import SessionDep


@dataclass(frozen=True)
class Names:
    """How one kind's routes are called: `/{base}/{{{org}}}/{plural}` and `.../{{{entry}}}`."""

    base: str  # "enterprises"
    org: str  # the path parameter of the organisation: "org_id"
    entry: str  # the path parameter of an entry: "employee_id"
    docs: dict[str, str] = field(default_factory=dict)  # handler name -> its description


def _handler(
    name: str, doc: str | None, params: list[tuple[str, Any]], body: Callable[..., Any], returns: Any
) -> Callable[..., Any]:
    """A function named `name` taking `params` (name, annotation) and the caller's scope and session."""

    def endpoint(**kwargs: Any) -> Any:
        return body(**kwargs)

    signature = [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=a) for p, a in params]
    signature += [
        inspect.Parameter("scope", inspect.Parameter.KEYWORD_ONLY, annotation=ScopeDep),
        inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=SessionDep),
    ]
    endpoint.__signature__ = inspect.Signature(signature, return_annotation=returns)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = doc
    return endpoint


def add_routes(router: APIRouter, kind: Whitelist[Any, Any], names: Names) -> None:
    """Register `kind`'s six routes on `router`."""
    Out, thing, plural = kind.public, kind.thing, kind.plural
    base = f"/{names.base}/{{{names.org}}}/{plural}"
    one = f"{base}/{{{names.entry}}}"

    def doc(name: str) -> tuple[str, str | None]:
        return name, names.docs.get(name)

    def listed(scope: Scope, db: Session, **ids: int) -> list[Any]:
        return [kind.show(e, scope) for e in kind.entries(db, scope, org_id=ids[names.org])]

    def added(scope: Scope, db: Session, body: Any, **ids: int) -> Any:
        return kind.show(kind.add(db, scope, org_id=ids[names.org], data=body))

    def updated(scope: Scope, db: Session, body: Any, **ids: int) -> Any:
        patch_changes(body)  # a null is refused: every field of an entry is required
        entry = kind.update(db, scope, org_id=ids[names.org], entry_id=ids[names.entry], changes=body)
        return kind.show(entry)

    def deleted(scope: Scope, db: Session, **ids: int) -> None:
        kind.delete(db, scope, org_id=ids[names.org], entry_id=ids[names.entry])

    def template(scope: Scope, db: Session, **ids: int) -> Response:
        return file_response(downloads.whitelist_template(db, scope, kind, org_id=ids[names.org]))

    def imported(scope: Scope, db: Session, upload: bytes, **ids: int) -> dict[str, int]:
        return {"imported": len(kind.import_rows(db, scope, org_id=ids[names.org], data=upload))}

    org = [(names.org, RowId)]
    entry = [*org, (names.entry, RowId)]
    router.get(base, response_model=list[Out])(_handler(*doc(f"list_{plural}"), org, listed, list[Out]))
    router.post(base, response_model=Out, status_code=201)(
        _handler(*doc(f"add_{thing}"), [*org, ("body", kind.new)], added, Out)
    )
    router.patch(one, response_model=Out)(
        _handler(*doc(f"update_{thing}"), [*entry, ("body", kind.patch)], updated, Out)
    )
    router.delete(one, status_code=204)(_handler(*doc(f"delete_{thing}"), entry, deleted, None))
    router.get(f"{base}/import-template.xlsx", response_class=Response, responses=XLSX_RESPONSE)(
        _handler(*doc(f"{thing}_template"), org, template, Response)
    )
    router.post(f"{base}/import", status_code=201)(
        _handler(*doc(f"import_{plural}"), [*org, ("upload", Upload)], imported, dict[str, int])
    )
