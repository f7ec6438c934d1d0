"""Dashboard, queries (seed flow 3), audit log viewer and the LINE support messages (hub.line.support).

Queries call the register services with the caller's Scope (`hub.services.queries.read_*`): they hold
the rules for who may query what (own organisation, unmask permission) and audit every query.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from hub.api.deps import client_ip
from hub.api.routes import queries as registers
from hub.console import charts
from hub.console.web import PREFIX, TAIPEI, Form, Page, Refused, UserPage, needs, needs_hub_admin
from hub.core.permissions import Permission
from hub.line import support
from hub.services import audit, dashboard, listings, queries

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(page: UserPage) -> Response:
    assert page.user is not None
    board = dashboard.dashboard(page.db, page.user)
    hour_labels = [h.strftime("%H") for h in board.hours]
    day_labels = [d.strftime("%m-%d") for d in board.days]
    return page.render(
        "dashboard.html",
        board=board,
        checks_chart=charts.stacked_bars(
            hour_labels, board.checks_per_hour, title=page.t("dashboard.checks_per_hour")
        ),
        verdict_chart=charts.horizontal_bars(board.verdicts, title=page.t("dashboard.verdicts")),
        passes_chart=charts.stacked_bars(
            day_labels, {"passes": board.passes_per_day}, title=page.t("dashboard.passes_per_day")
        ),
    )


# --- queries --------------------------------------------------------------------------------------------

QueryPage = Depends(needs(Permission.QUERY_PASSES, Permission.QUERY_CHECKS))


def _moment(text: str | None) -> dt.datetime | None:
    """A datetime-local field, read as Taipei time."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=TAIPEI)
    except ValueError:
        raise Refused(400, "error.generic") from None


def _int(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise Refused(400, "error.generic")
    return int(text)


@router.get("/queries", response_class=HTMLResponse)
def queries_page(
    page: Page = QueryPage,
    kind: str = "",
    since: str = "",
    until: str = "",
    enterprise_id: str = "",
    person: str = "",
    officer_id: str = "",
    unmask: str = "",
    reason: str = "",
    format: str = "html",
) -> Response:
    assert page.user is not None
    kinds = [
        k
        for k, p in (("passes", Permission.QUERY_PASSES), ("checks", Permission.QUERY_CHECKS))
        if page.can(p)
    ]
    values = {
        "kind": kind,
        "since": since,
        "until": until,
        "enterprise_id": enterprise_id,
        "person": person[:64],
        "officer_id": officer_id,
        "unmask": bool(unmask),
        "reason": reason[:200],
    }
    context: dict[str, Any] = {"kinds": kinds, "values": values, "result": None, "message": None}
    template = "queries_results.html" if page.request.headers.get("hx-request") else "queries.html"
    if not kind:
        return page.render(template, **context)
    if kind not in kinds:
        raise Refused(403, "error.forbidden")
    wants_clear = bool(unmask)
    if wants_clear and not reason.strip():
        context["message"] = page.t("queries.need_reason")
        return page.render(template, status_code=400, **context)
    fmt = format if format in ("csv", "xlsx") else "json"
    ip = client_ip(page.request)
    if wants_clear and page.can(Permission.PERSONAL_DATA_UNMASK):
        # The typed reason goes into the audit log next to the query's own record (which the register
        # function writes, with unmasked=true).
        audit.record(
            page.db,
            "personal_data.unmask_reason",
            actor=page.user,
            client_ip=ip,
            register=kind,
            reason=reason.strip()[:200],
        )
    since_at, until_at = _moment(since), _moment(until)
    who = person.strip()[:64] or None
    if kind == "passes":
        read = functools.partial(queries.read_pass_register, enterprise_id=_int(enterprise_id), person=who)
    else:
        read = functools.partial(queries.read_check_register, officer_id=_int(officer_id))
    # The services check who may read which register and unmask, scope it to the caller's organisation,
    # and audit the query. A download holds the whole register; the screen its first SCREEN_ROWS.
    limit = queries.MAX_ROWS if fmt != "json" else SCREEN_ROWS
    register = read(
        page.db, page.scope, since=since_at, until=until_at, unmask=wants_clear, output=fmt, limit=limit
    )
    if fmt != "json":
        return registers._render(register, fmt, kind)  # type: ignore[arg-type]
    context["result"] = json.loads(bytes(registers._render(register, "json", kind).body))
    return page.render(template, **context)


SCREEN_ROWS = 200  # rows shown on a page; the CSV/.xlsx export holds the whole register


# --- audit log -------------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    page: Page = Depends(needs(Permission.AUDIT_READ)), action: str = "", actor: str = "", before: str = ""
) -> Response:
    events = listings.audit_events(
        page.db,
        action=action.strip()[:48] or None,
        actor_user_id=_int(actor.strip()),
        before_id=_int(before.strip()),
    )
    return page.render(
        "audit.html",
        events=events,
        values={"action": action[:48], "actor": actor[:12]},
        next_before=events[-1].id if len(events) == 100 else None,
    )


# --- LINE 詢問客服 ----------------------------------------------------------------------------------------


@router.get("/support", response_class=HTMLResponse)
def support_page(page: Page = Depends(needs_hub_admin), show: str = "open") -> Response:
    # The rule (hub admins only, mobiles masked unless unmask is held and then audited) is the
    # service's; the page only chooses between the open messages and all of them.
    everything = show == "all"
    messages = support.list_support_messages(page.db, page.user, unhandled_only=not everything, limit=200)
    return page.render("support.html", messages=messages, everything=everything)


@router.post("/support/{message_id}/handled", response_class=HTMLResponse)
def support_handled(message_id: int, form: Form, page: Page = Depends(needs_hub_admin)) -> Response:
    support.mark_handled(page.db, page.user, message_id)
    return page.redirect(f"{PREFIX}/support")
