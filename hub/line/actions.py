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
from hub.line.replies import Outcome, liff_url, link_bubble, taipei
from hub.line.words import t
from hub.services import passes, queries, rosters, venues
from hub.services.line_bindings import Caller
from hub.services.scope import Scope
from hub.services.valid_passes import own_valid_passes

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.identity import User
    from hub.models.passes import Pass

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
                    "text": t("line.pass.holder", name=mask_name(record.holder_name)),
                    "wrap": True,
                },
                {
                    "type": "text",
                    "text": t("line.pass.national_id", id=record.masked_national_id),
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
        "footer": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {
                    "type": "button",
                    "style": "primary",
                    "action": {
                        "type": "uri",
                        "label": t("line.pass.show_full"),
                        "uri": liff_url(db, "enterprise", "enterprise/pass"),
                    },
                }
            ],
        },
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
    lines = [
        t("line.passes.line", name=mask_name(p.holder_name), time=taipei(p.expires_at)) for p in valid[:10]
    ]
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
            m.text(t("line.venues.existing") + "\n" + "\n".join(lines)),
        ]
    )


# --- police ---


# A station admin is not a duty officer until on the roster; the roster is read at every tap, so adding
# oneself with the name and mobile bound here is all it takes (hub.services.line_bindings.accounts_of): the
# answer `line.scan.not_on_roster` says so.


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
    lines = [f"{mask_name(o.name)}　{o.officer_number}　{mask_mobile(o.mobile)}" for o in officers[:20]]
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


Action = Callable[[Session, Caller, "User"], Any]  # a menu item: (db, caller, account) → its answer
ACTIONS: dict[str, tuple[tuple[Role, ...], Action]] = {
    "pass_show": ((Role.EMPLOYEE, Role.ENTERPRISE_ADMIN), pass_show),
    "pass_download": ((Role.EMPLOYEE, Role.ENTERPRISE_ADMIN), pass_download),
    "pass_print": ((Role.EMPLOYEE, Role.ENTERPRISE_ADMIN), pass_print),
    "pass_list": ((Role.ENTERPRISE_ADMIN,), pass_list),
    "venue_apply": ((Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN), venue_apply),
    "scan": ((Role.OFFICER,), scan),
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
            return handler(db, caller, account)
    if action == "scan" and caller.account(Role.STATION_ADMIN) is not None:
        return Outcome([m.text(t("line.scan.not_on_roster"))])
    names = t("line.separator").join(role_label(r.value) for r in roles)
    return Outcome([m.text(t("line.action.only_for", roles=names))])
