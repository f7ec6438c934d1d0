"""Dashboard, queries (docs/requirements.md, 3), audit log viewer and the LINE support messages
(hub.services.support: read, marked handled, answered in LINE).

Queries call the register services with the caller's Scope (`hub.services.queries.read_*`): they hold
the rules for who may query what (own organisation, unmask permission) and audit every query.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from hub.console import charts, i18n
from hub.console.web import (
    PREFIX,
    TAIPEI,
    Form,
    Page,
    Refused,
    UserPage,
    as_json,
    needs,
    needs_hub_admin,
    shows_refusals,
)
from hub.core.permissions import Permission
from hub.documents.exports import to_csv
from hub.responses import file_response
from hub.services import audit, audit_search, dashboard, downloads, queries, support
from hub.services import errors as domain
from hub.web import client_ip

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(page: UserPage) -> Response:
    assert page.user is not None
    board = dashboard.dashboard(page.db, page.user)
    hour_labels = [h.strftime("%H") for h in board.hours]
    day_labels = [d.strftime("%m-%d") for d in board.days]

    def peak(n: int) -> str:
        return page.t("chart.peak", n=n)

    return page.render(
        "dashboard.html",
        board=board,
        checks_chart=charts.stacked_bars(
            hour_labels, board.checks_per_hour, title=page.t("dashboard.checks_per_hour"), peak_text=peak
        ),
        verdict_chart=charts.verdict_bars(board.verdicts, title=page.t("dashboard.verdicts"), t=page.t),
        passes_chart=charts.stacked_bars(
            day_labels,
            {page.t("chart.passes"): board.passes_per_day},
            title=page.t("dashboard.passes_per_day"),
            peak_text=peak,
        ),
    )


# --- queries --------------------------------------------------------------------------------------------

QueryPage = Depends(needs(Permission.QUERY_PASSES, Permission.QUERY_CHECKS))


def _moment(text: str, field: str) -> dt.datetime | None:
    """A datetime-local field, read as Taipei time."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=TAIPEI)
    except ValueError:
        raise domain.Invalid("not a time", field=field, message_key="queries.bad_time") from None


# Which register each search field belongs to: a field the chosen register cannot be searched by is
# named, not ignored (a station admin's form shows only the checks' fields).
QUERY_FIELDS = {"passes": ("enterprise", "person"), "checks": ("officer",)}
# The services' refusal reasons (hub.services.queries) -> the form field to mark.
_BAD_FIELD = {"reversed_range": "since", "empty_range": "until"}


def _query_message(page: Page) -> str | None:
    """A refused query in the query form's own words where it has them (`queries.<reason>`)."""
    assert page.refusal is not None
    key = f"queries.{page.refusal.reason}"
    return page.t(key) if i18n.has(key) else page.refusal.message


def _no_rows_message(page: Page, register: queries.Register, values: dict[str, Any]) -> str:
    """Why the register is empty, in words: the term named nobody, or nothing matched in the window."""
    if register.unmatched == "enterprise":
        return page.t("queries.no_enterprise", term=values["enterprise"])
    if register.unmatched == "officer":
        return page.t("queries.no_officer", term=values["officer"])
    return page.t("queries.no_rows")


def _unmask_reason(page: Page, wants_clear: bool, reason: str, **what: str) -> bool:
    """Personal data in clear is asked for with a reason: False when it is asked for without one. The
    typed reason goes into the audit log next to the read's own record (which the service writes, with
    unmasked=true, after checking the permission)."""
    if not wants_clear:
        return True
    if not reason.strip():
        return False
    if page.can(Permission.PERSONAL_DATA_UNMASK):
        audit.record(
            page.db,
            "personal_data.unmask_reason",
            actor=page.user,
            client_ip=client_ip(page.request),
            reason=reason.strip()[:200],
            **what,
        )
    return True


def _query_form(page: Page) -> tuple[str, dict[str, Any]]:
    """The query form's template (the results alone for htmx) and context, with the values as typed
    (the page is a GET form: they are in the URL)."""
    typed = page.request.query_params
    kind, since, until, reason = (str(typed.get(name, "")) for name in ("kind", "since", "until", "reason"))
    enterprise, person, officer = (str(typed.get(name, "")) for name in ("enterprise", "person", "officer"))
    unmask = str(typed.get("unmask", ""))
    kinds = [
        k
        for k, p in (("passes", Permission.QUERY_PASSES), ("checks", Permission.QUERY_CHECKS))
        if page.can(p)
    ]
    values = {
        "kind": kind,
        "since": since,
        "until": until,
        "enterprise": enterprise.strip()[:100],
        "person": person.strip()[:64],
        "officer": officer.strip()[:64],
        "unmask": bool(unmask),
        "reason": reason[:200],
    }
    context: dict[str, Any] = {
        "kinds": kinds,
        "fields": {f for k in kinds for f in QUERY_FIELDS[k]},
        "values": values,
        "result": None,
        "message": None,
        "notice": None,
        "bad_field": None,
    }
    template = "queries_results.html" if page.request.headers.get("hx-request") else "queries.html"
    return template, context


def _refused_query(page: Page) -> Response:
    """The query form again with the values as typed, what is wrong and which field; no results."""
    assert page.refusal is not None
    template, context = _query_form(page)
    context["message"] = _query_message(page)
    context["bad_field"] = _BAD_FIELD.get(page.refusal.reason, page.refusal.field)
    return page.render(template, **context)


@router.get("/queries", response_class=HTMLResponse)
@shows_refusals(_refused_query)
def queries_page(
    page: Page = QueryPage,
    kind: str = "",
    since: str = "",
    until: str = "",
    enterprise: str = "",
    person: str = "",
    officer: str = "",
    unmask: str = "",
    reason: str = "",
    format: str = "html",
) -> Response:
    assert page.user is not None
    template, context = _query_form(page)
    values = context["values"]
    if not kind:
        return page.render(template, **context)
    if kind not in context["kinds"]:
        raise Refused(403, "queries.not_your_register")
    stray = [f for f in ("enterprise", "person", "officer") if values[f] and f not in QUERY_FIELDS[kind]]
    if stray:
        raise domain.Invalid(
            "not a field of this register", field=stray[0], message_key=f"queries.not_for_{kind}"
        )
    wants_clear = bool(unmask)
    if wants_clear and not reason.strip():
        raise domain.Invalid("unmasking needs a reason", field="reason", message_key="queries.need_reason")
    since_at, until_at = _moment(since, "since"), _moment(until, "until")
    _unmask_reason(page, wants_clear, reason, register=kind)
    if kind == "passes":
        read = functools.partial(
            queries.read_pass_register,
            enterprise=values["enterprise"] or None,
            person=values["person"] or None,
        )
    else:
        read = functools.partial(queries.read_check_register, officer=values["officer"] or None)
    # The services check who may read which register and unmask, scope it to the caller's organisation,
    # and audit the query. A download holds the whole register; the screen its first SCREEN_ROWS.
    download = EXPORTS.get(format)
    limit = queries.MAX_ROWS if download else SCREEN_ROWS
    register = read(
        page.db,
        page.scope,
        since=since_at,
        until=until_at,
        unmask=wants_clear,
        output=download or "json",
        limit=limit,
    )
    if download:
        return file_response(downloads.register_export(register, download, kind))
    context["result"] = register.listing()
    if not register.rows:
        context["notice"] = _no_rows_message(page, register, values)
    return page.render(template, **context)


SCREEN_ROWS = 200  # rows shown on a page; the CSV/.xlsx export holds the whole register
EXPORTS: dict[str, downloads.ExportFormat] = {"csv": "csv", "xlsx": "xlsx"}  # `format`: else the page


# --- audit log -------------------------------------------------------------------------------------------


AuditReader = Depends(needs(Permission.AUDIT_READ))
# The filter fields as they appear in the URL (shareable: the page is a GET form).
AUDIT_FIELDS = ("action", "actor", "since", "until", "target_kind", "target_id", "outcome", "q")


def _audit_values(request_query: Any) -> dict[str, str]:
    return {name: str(request_query.get(name, ""))[:120] for name in AUDIT_FIELDS}


def _audit_filter(values: dict[str, str]) -> audit_search.AuditFilter:
    """The service reads the filter (and refuses a bad one, naming the field)."""
    return audit_search.parse_filter(
        action=values["action"],
        actor=values["actor"],
        since=values["since"],
        until=values["until"],
        target_kind=values["target_kind"],
        target_id=values["target_id"],
        outcome=values["outcome"],
        text=values["q"],
    )


def _filter_message(page: Page) -> str | None:
    """A refused filter in the audit form's own words where it has them (`audit.bad_<field>`)."""
    assert page.refusal is not None
    key = f"audit.bad_{page.refusal.field or ''}"
    return page.t(key) if i18n.has(key) else page.refusal.message


def _audit_context(values: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "found": None,
        "message": None,
        "bad_field": None,
        "target_kinds": audit_search.TARGET_KINDS,
        "outcomes": audit_search.OUTCOMES,
        "outcome_of": audit_search.outcome_of,
        "query": urlencode({k: v for k, v in values.items() if v}),
    }


def _refused_filter(page: Page) -> Response:
    """The form again with the values as typed and what is wrong with which field; no results."""
    assert page.refusal is not None
    context = _audit_context(_audit_values(page.request.query_params))
    context["message"] = _filter_message(page)
    context["bad_field"] = "q" if page.refusal.field == "text" else page.refusal.field
    return page.render("audit.html", **context)


@router.get("/audit", response_class=HTMLResponse)
@shows_refusals(_refused_filter)
def audit_page(page: Page = AuditReader, before: str = "", after: str = "") -> Response:
    values = _audit_values(page.request.query_params)
    context = _audit_context(values)
    flt = _audit_filter(values)
    context["found"] = audit_search.search(
        page.db, page.scope, flt, before_id=_page_key(before), after_id=_page_key(after)
    )
    return page.render("audit.html", **context)


def _page_key(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise domain.Invalid("page: not a page of this list", field="page", reason="invalid_filter")
    return int(text)


AUDIT_CSV_HEADERS = ("#", "時間（台北，UTC+8）", "動作", "結果", "執行者", "角色", "對象", "內容")


@router.get("/audit.csv")
@shows_refusals(_refused_filter)
def audit_csv(page: Page = AuditReader) -> Response:
    """Every entry the filter finds (not only the page on screen), as on screen: details as shown (they
    hold masked values only), times in Taipei. The service audits the export."""
    flt = _audit_filter(_audit_values(page.request.query_params))
    rows = (
        (
            e.id,
            e.at,
            e.action,
            page.t(f"audit.outcome_{audit_search.outcome_of(e.action)}"),
            e.actor_user_id,
            e.actor_role,
            e.target,
            as_json(e.details),
        )
        for e in audit_search.export(page.db, page.scope, flt)
    )
    stamp = dt.datetime.now(TAIPEI).strftime("%Y%m%d-%H%M")
    return Response(
        to_csv(AUDIT_CSV_HEADERS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


# --- LINE 詢問客服 ----------------------------------------------------------------------------------------


@router.get("/support", response_class=HTMLResponse)
def support_page(
    page: Page = Depends(needs_hub_admin), show: str = "open", unmask: str = "", reason: str = ""
) -> Response:
    # The rule (hub admins only, mobiles masked unless unmask is asked for, held, and then audited) is
    # the service's; the page chooses between the open messages and all of them, and asks for the
    # reason before anything is shown in clear, as the queries do.
    everything = show == "all"
    values = {"unmask": bool(unmask), "reason": reason[:200]}
    context = {"everything": everything, "values": values, "message": None}
    if not _unmask_reason(page, bool(unmask), reason, register="support"):
        context["message"] = page.t("queries.need_reason")
        messages = support.list_support_messages(page.db, page.user, unhandled_only=not everything, limit=200)
        return page.render("support.html", status_code=400, messages=messages, **context)
    messages = support.list_support_messages(
        page.db,
        page.user,
        unhandled_only=not everything,
        limit=200,
        unmask=bool(unmask),
        client_ip=client_ip(page.request),
    )
    return page.render("support.html", messages=messages, **context)


def _refused_support(page: Page) -> Response:
    """The open messages again, with why the answer was refused (empty, too long, answered already)."""
    assert page.refusal is not None
    messages = support.list_support_messages(page.db, page.user, unhandled_only=False, limit=200)
    context = {"everything": True, "values": {"unmask": False, "reason": ""}, "message": page.refusal.message}
    return page.render("support.html", status_code=page.refusal.status, messages=messages, **context)


@router.post("/support/{message_id}/reply", response_class=HTMLResponse)
@shows_refusals(_refused_support)
def support_reply(message_id: int, form: Form, page: Page = Depends(needs_hub_admin)) -> Response:
    # The answer reaches the person by push through the LINE inbox (hub.services.support.reply).
    words = form.get("reply")
    support.reply(
        page.db,
        page.user,
        message_id,
        words if isinstance(words, str) else "",
        client_ip=client_ip(page.request),
    )
    return page.redirect(f"{PREFIX}/support?show=all", done="support_replied")


@router.post("/support/{message_id}/handled", response_class=HTMLResponse)
def support_handled(message_id: int, form: Form, page: Page = Depends(needs_hub_admin)) -> Response:
    support.mark_handled(page.db, page.user, message_id)
    return page.redirect(f"{PREFIX}/support", done="support_handled")
