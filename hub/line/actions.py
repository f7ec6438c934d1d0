"""The rich-menu items of a bound caller, over the services.

A postback names an action only. Which account acts is chosen from the caller's *current* accounts
(looked up again for this event) by the roles the action is for; the reads themselves are scoped by
that account (`hub.services.valid_passes`, `hub.services.queries`). A caller without such a role is told
so and nothing is read. Times shown to people are Asia/Taipei.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.core.masking import mask_mobile, mask_name
from hub.core.vocabulary import Role
from hub.line import data_reads
from hub.line import messages as m
from hub.line.channels import role_label
from hub.line.links import signed_url
from hub.line.replies import Outcome, liff_url, link_bubble, link_footer, taipei
from hub.line.words import t
from hub.services import passes, queries, rosters, venues
from hub.services.line_bindings import Caller
from hub.services.scope import Scope
from hub.services.valid_passes import own_valid_passes

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.identity import User
    from hub.models.passes import Pass
    from hub.models.venues import Venue

# --- employees' passes ---


def _employee_pass(db: Session, account: User) -> Pass | None:
    rows = own_valid_passes(db, account)
    return rows[-1] if rows else None


def pass_show(db: Session, caller: Caller, account: User) -> Any:
    if account.role == Role.ENTERPRISE_ADMIN.value:
        return Outcome([m.text(t("line.pass.admin_has_sheet"))])
    record = _employee_pass(db, account)
    if record is None:
        return Outcome([m.text(t("line.pass.none"))])
    shown = passes.PassOut.of(record)  # the holder masked, as everywhere else
    context = context_of(db)
    qr = signed_url(context, "qr", record.pass_id)
    bubble = {
        "type": "bubble",
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {"type": "text", "text": t("line.pass.title"), "weight": "bold", "color": "#0b5394"}
            ],
        },
        "hero": {"type": "image", "url": qr, "size": "full", "aspectRatio": "1:1", "aspectMode": "fit"},
        # LINE's dark theme darkens a bubble's blocks: the QR's block stays white, so the code keeps its
        # quiet zone on any theme (the PNG itself is opaque, with a 4-module white border).
        "styles": {"hero": {"backgroundColor": "#FFFFFF"}},
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                {
                    "type": "text",
                    "text": t("line.pass.holder", name=shown.holder_name_masked),
                    "wrap": True,
                },
                {
                    "type": "text",
                    "text": t("line.pass.national_id", id=shown.masked_national_id),
                    "wrap": True,
                },
                {
                    "type": "text",
                    "text": t(
                        "line.pass.enterprise", name=account.organisation.name if account.organisation else ""
                    ),
                    "wrap": True,
                },
                {
                    "type": "text",
                    "text": t("line.pass.valid_until", time=taipei(record.expires_at)),
                    "wrap": True,
                    "size": "sm",
                },
                {
                    "type": "text",
                    "text": t("line.pass.show_with_id"),
                    "wrap": True,
                    "size": "sm",
                    "color": "#cc0000",
                },
            ],
        },
        # The LIFF 出示通行碼 page: the code larger, on white, the screen kept on (templates/pass.html).
        "footer": link_footer(t("line.pass.show_full"), liff_url(db, "enterprise", "enterprise/pass")),
    }
    return Outcome([{"type": "flex", "altText": t("line.pass.title"), "contents": bubble}])


def pass_download(db: Session, caller: Caller, account: User) -> Any:
    if account.role == Role.ENTERPRISE_ADMIN.value:
        return _sheet(db, account)
    record = _employee_pass(db, account)
    if record is None:
        return Outcome([m.text(t("line.pass.none"))])
    context = context_of(db)
    image = {
        "type": "image",
        "originalContentUrl": signed_url(context, "qr", record.pass_id),
        "previewImageUrl": signed_url(context, "preview", record.pass_id),
    }
    return Outcome([image, m.text(t("line.pass.download_hint"))])


def pass_print(db: Session, caller: Caller, account: User) -> Any:
    if account.role == Role.ENTERPRISE_ADMIN.value:
        return _sheet(db, account)
    record = _employee_pass(db, account)
    if record is None:
        return Outcome([m.text(t("line.pass.none"))])
    pdf = signed_url(context_of(db), "pdf", record.pass_id)
    return Outcome(
        [
            link_bubble(
                t("line.pass.print_title"),
                [t("line.pass.print_pdf"), t("line.pass.bring_id")],
                t("line.pass.open_pdf"),
                pdf,
            )
        ]
    )


def _sheet(db: Session, account: User) -> Any:
    """The enterprise's printable sheet: rendering it is slow, so the reply says so and the link comes
    by push when the PDF is ready (hub.line.webhook runs `later`)."""
    return Outcome([m.text(t("line.sheet.making"))], later=("sheet", account.id))


# --- enterprise admin ---


def pass_list(db: Session, caller: Caller, account: User) -> Any:
    assert account.org_id is not None
    rows = passes.list_passes(db, Scope.of(account), org_id=account.org_id)
    valid = [p for p in rows if passes.valid_now(p)]
    shown = [passes.PassOut.of(p) for p in valid[:10]]
    lines = [t("line.passes.line", name=p.holder_name_masked, time=taipei(p.expires_at)) for p in shown]
    more = "\n" + t("line.passes.more", n=len(valid) - 10) if len(valid) > 10 else ""
    summary = t("line.passes.summary", valid=len(valid), gone=len(rows) - len(valid))
    return Outcome(
        [
            m.text(summary + ("\n" + "\n".join(lines) if lines else "") + more),
            link_bubble(
                t("line.passes.manage_title"),
                [t("line.passes.manage_hint")],
                t("line.passes.manage_open"),
                liff_url(db, "enterprise", "enterprise/employees"),
            ),
        ]
    )


def venue_apply(db: Session, caller: Caller, account: User) -> Any:
    assert account.org_id is not None
    _, existing = venues.list_venues(db, Scope.of(account), org_id=account.org_id)
    lines = [t("line.venues.line", name=v.name, url=venues.venue_url(db, v)) for v in existing[:10]] or [
        t("line.venues.none")
    ]
    return Outcome(
        [
            link_bubble(
                t("line.venues.apply_title"),
                [t("line.venues.apply_fields"), t("line.venues.apply_many")],
                t("line.venues.apply_open"),
                liff_url(db, caller.channel.value, f"{caller.channel.value}/venues"),
            ),
            m.text(
                t("line.venues.existing") + "\n" + "\n".join(lines),
                quick_reply=_venue_items(existing) if existing else None,
            ),
        ]
    )


def _venue_items(existing: list[Venue]) -> dict[str, Any]:
    """What an organisation's admin can do next with its venue codes: print them, read their visits."""
    items = [
        m.postback(t("line.posters.label"), "venue_posters"),
        *(
            m.postback(t("line.visits.label", name=v.name), "venue_visits", v=v.id)
            for v in existing[: QUICK_REPLY_ITEMS - 1]
        ),
    ]
    return {"items": [{"type": "action", "action": item} for item in items]}


def venue_posters(db: Session, caller: Caller, account: User) -> Any:
    """下載列印實聯碼: the organisation's venue-code posters (one A4 page each). Rendering is slow, so the
    reply says so and the signed link comes by push (hub.line.webhook runs `later`, as for the pass
    sheet). Whose posters is the account's own organisation: nothing in the postback names one."""
    assert account.org_id is not None  # run() sends a station admin without a station to registration
    _, existing = venues.list_venues(db, Scope.of(account), org_id=account.org_id)
    if not existing:
        return venue_apply(db, caller, account)
    return Outcome([m.text(t("line.posters.making", n=len(existing)))], later=("venue_posters", account.id))


def venue_visits(db: Session, caller: Caller, account: User, data: dict[str, str]) -> Any:
    """A venue's visits of the retention window (28 days), masked, read through the service the console
    and REST use (`venues.venue_visits`: its organisation's admins only; audited). The postback names
    the venue by id; a venue of another organisation, or none, gets one answer and nothing is read."""
    assert account.org_id is not None
    scope = Scope.of(account)
    _, existing = venues.list_venues(db, scope, org_id=account.org_id)
    wanted = data.get("v", "")
    venue = next((v for v in existing if wanted.isdigit() and v.id == int(wanted)), None)
    if venue is None:
        if not existing:
            return venue_apply(db, caller, account)
        days = context_of(db).settings.retention_days
        head = t("line.visits.choose", days=days) if not wanted else t("line.visits.unknown")
        return Outcome([m.text(head, quick_reply=_venue_items(existing))])
    rows = venues.venue_visits(db, scope, venue_id=venue.id)  # audited (query.venue_visits)
    days = context_of(db).settings.retention_days
    shown = [venues.VenueVisit.of(v) for v in rows[:VISIT_LINES]]  # masked: the chat never unmasks
    lines = [t("line.visits.line", time=taipei(v.visited_at), mobile=v.mobile) for v in shown]
    more = ""
    if len(rows) > VISIT_LINES:
        more = "\n" + t("line.visits.more", n=len(rows) - VISIT_LINES, shown=VISIT_LINES)
    head = t("line.visits.head", name=venue.name, days=days, n=len(rows))
    return Outcome(
        [m.text(head + ("\n" + "\n".join(lines) if lines else "") + more, quick_reply=_venue_items(existing))]
    )


QUICK_REPLY_ITEMS = 13  # LINE's limit for one message's quick replies
VISIT_LINES = 30  # visits listed in the chat; the count says how many more


# --- police ---


# A station admin is not a duty officer until on the roster; the roster is read at every tap, so adding
# oneself with the name and mobile bound here is all it takes (hub.services.line_bindings.accounts_of): the
# answer `line.scan.not_on_roster` says so.


def not_on_roster(db: Session, caller: Caller, account: User) -> Any:
    """A station admin who taps 掃碼核實 off the roster: where on the roster page to add themselves, with
    the name and mobile they are bound by (masked: the person knows them, the chat shows them masked),
    and the page itself one tap away (a station not registered yet gets the registration form)."""
    if account.org_id is None:
        return station_register(db, caller, account)
    how = t("line.scan.add_yourself", name=mask_name(account.name), mobile=mask_mobile(caller.mobile))
    return Outcome(
        [
            m.text(t("line.scan.not_on_roster")),
            link_bubble(
                t("line.roster.manage_title"),
                [how],
                t("line.roster.manage_open"),
                liff_url(db, "police", "police/roster"),
            ),
        ]
    )


def scan(db: Session, caller: Caller, account: User) -> Any:
    return Outcome(
        [
            link_bubble(
                t("line.scan.title"),
                [t("line.scan.hint")],
                t("line.scan.open"),
                liff_url(db, "police", "police/scan"),
            )
        ]
    )


def duty_roster(db: Session, caller: Caller, account: User) -> Any:
    assert account.org_id is not None  # run() sends a station admin without a station to registration
    officers = rosters.OFFICERS.entries(db, Scope.of(account), org_id=account.org_id, masked=True)
    shown = [rosters.OfficerOut.of(o) for o in officers[:20]]  # masked: the chat shows no mobile in clear
    lines = [f"{o.name_masked}　{o.officer_number}　{o.mobile_masked}" for o in shown]
    head = t("line.roster.head", n=len(officers))
    more = "\n" + t("line.roster.more", n=len(officers) - 20) if len(officers) > 20 else ""
    return Outcome(
        [
            m.text(head + ("\n" + "\n".join(lines) if lines else "") + more),
            link_bubble(
                t("line.roster.manage_title"),
                [t("line.roster.manage_hint")],
                t("line.roster.manage_open"),
                liff_url(db, "police", "police/roster"),
            ),
        ]
    )


def station_register(db: Session, caller: Caller, account: User) -> Any:
    """A station admin whose station is not registered yet: every station item leads to the form."""
    return Outcome(
        [
            link_bubble(
                t("line.station.register_title"),
                [t("line.station.register_hint")],
                t("line.station.register_open"),
                liff_url(db, "police", "police/register"),
            )
        ]
    )


def checks(db: Session, caller: Caller, account: User) -> Any:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    register = queries.read_check_register(db, Scope.of(account), since=since, station_id=account.org_id)
    rows = register.rows[:10]
    lines = [
        " ".join(
            (
                taipei(r["scanned_at"]),
                t("line.checks.ok") if r["ok"] else t("line.checks.refused"),
                r["holder_name"] or "",
                r["officer_name"] or "",
            )
        )
        for r in rows
    ]
    return Outcome(
        [m.text(t("line.checks.head", n=len(register.rows)) + ("\n" + "\n".join(lines) if lines else ""))]
    )


Action = Callable[..., Any]  # (db, caller, account), and the postback's data for those in TAKES_DATA
# Items whose postback names more than the action (a venue id: never a person's); the rest ignore it.
TAKES_DATA: frozenset[Action] = frozenset({venue_visits})
ACTIONS: dict[str, tuple[tuple[Role, ...], Action]] = {
    "pass_show": ((Role.EMPLOYEE, Role.ENTERPRISE_ADMIN), pass_show),
    "pass_download": ((Role.EMPLOYEE, Role.ENTERPRISE_ADMIN), pass_download),
    "pass_print": ((Role.EMPLOYEE, Role.ENTERPRISE_ADMIN), pass_print),
    "pass_list": ((Role.ENTERPRISE_ADMIN,), pass_list),
    "venue_apply": ((Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN), venue_apply),
    "scan": ((Role.OFFICER,), scan),
    "venue_posters": ((Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN), venue_posters),
    "venue_visits": ((Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN), venue_visits),
    "duty_roster": ((Role.STATION_ADMIN,), duty_roster),
    "checks": ((Role.STATION_ADMIN,), checks),
    "data_reads": (
        (Role.EMPLOYEE, Role.ENTERPRISE_ADMIN, Role.OFFICER, Role.STATION_ADMIN),
        data_reads.chat_item,
    ),
}


def run(db: Session, caller: Caller, action: str, data: dict[str, str]) -> Any:
    entry = ACTIONS.get(action)
    if entry is None:
        return Outcome([m.text(t("line.action.unknown"))])
    roles, handler = entry
    # the member role first for pass items (an admin who is also an employee sees their own pass)
    ordered = sorted(roles, key=lambda r: 0 if r in (Role.EMPLOYEE, Role.OFFICER) else 1)
    for role in ordered:
        account = caller.account(role)
        if account is not None:
            if role is Role.STATION_ADMIN and account.org_id is None:
                return station_register(db, caller, account)
            if handler in TAKES_DATA:
                return handler(db, caller, account, data)
            return handler(db, caller, account)
    station_admin = caller.account(Role.STATION_ADMIN)
    if action == "scan" and station_admin is not None:
        return not_on_roster(db, caller, station_admin)
    names = t("line.separator").join(role_label(r.value) for r in roles)
    return Outcome([m.text(t("line.action.only_for", roles=names))])
