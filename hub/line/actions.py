"""The rich-menu items of a bound caller, over the services.

A postback names an action only. Which account acts is chosen from the caller's *current* accounts
(looked up again for this event) by the roles the action is for; the reads themselves are scoped by
that account (`hub.line.reads`, `hub.services.queries`). A caller without such a role is told so and
nothing is read. Times shown to people are Asia/Taipei.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.context import context_of
from hub.core.masking import mask_mobile, mask_name
from hub.db import utcnow
from hub.line import data_reads
from hub.line import messages as m
from hub.line.binding import Caller
from hub.line.channels import ROLE_LABELS
from hub.line.links import signed_url
from hub.line.reads import own_valid_passes
from hub.models.identity import Role, User
from hub.models.passes import Pass
from hub.services import passes, queries, rosters, venues
from hub.services.scope import Scope

TAIPEI = ZoneInfo("Asia/Taipei")


def taipei(moment: dt.datetime) -> str:
    """How a time is shown to a person: Asia/Taipei, with the zone said."""
    return moment.astimezone(TAIPEI).strftime("%Y/%m/%d %H:%M") + "（台北時間）"


def _outcome(messages: list[m.Message], later: Any = None) -> Any:
    from hub.line.conversation import Outcome

    return Outcome(messages, later=later)


def liff_url(db: Session, channel: str, page: str) -> str:
    settings = context_of(db).settings
    liff_id = settings.liff_id_police if channel == "police" else settings.liff_id_enterprise
    # The LIFF apps' endpoint URL is the hub's base URL, so every page (and /v/{code}) is under it.
    if liff_id:
        return f"https://liff.line.me/{liff_id}/liff/{page}"
    return f"{settings.base_url.rstrip('/')}/liff/{page}"


def _link_bubble(title: str, lines: list[str], label: str, uri: str) -> m.Message:
    body: list[dict[str, Any]] = [
        {"type": "text", "text": title, "weight": "bold", "size": "lg", "wrap": True}
    ]
    body += [{"type": "text", "text": line, "wrap": True, "size": "sm"} for line in lines]
    return {
        "type": "flex",
        "altText": title,
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "action": {"type": "uri", "label": label, "uri": uri},
                    }
                ],
            },
        },
    }


# --- employees' passes ---


def _employee_pass(db: Session, account: User) -> Pass | None:
    rows = own_valid_passes(db, account)
    return rows[-1] if rows else None


NO_PASS = "目前沒有有效的通行碼，請洽貴公司的企業管理者申請。"


def pass_show(db: Session, caller: Caller, account: User) -> Any:
    if account.role == Role.ENTERPRISE_ADMIN.value:
        return _outcome([m.text("企業管理者請以「下載通行碼」或「列印通行碼」取得全體員工的通行碼。")])
    record = _employee_pass(db, account)
    if record is None:
        return _outcome([m.text(NO_PASS)])
    context = context_of(db)
    qr = signed_url(context, "qr", record.pass_id)
    bubble = {
        "type": "bubble",
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {"type": "text", "text": "新北市交通管制通行碼", "weight": "bold", "color": "#0b5394"}
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
                {"type": "text", "text": f"持有人：{mask_name(record.holder_name)}", "wrap": True},
                {"type": "text", "text": f"身分證：{record.masked_national_id}", "wrap": True},
                {
                    "type": "text",
                    "text": f"企業：{account.organisation.name if account.organisation else ''}",
                    "wrap": True,
                },
                {
                    "type": "text",
                    "text": f"有效期限：{taipei(record.expires_at)}",
                    "wrap": True,
                    "size": "sm",
                },
                {
                    "type": "text",
                    "text": "請出示本通行碼並攜帶身分證以供查驗。",
                    "wrap": True,
                    "size": "sm",
                    "color": "#cc0000",
                },
            ],
        },
    }
    return _outcome([{"type": "flex", "altText": "新北市交通管制通行碼", "contents": bubble}])


def pass_download(db: Session, caller: Caller, account: User) -> Any:
    if account.role == Role.ENTERPRISE_ADMIN.value:
        return _sheet(db, account)
    record = _employee_pass(db, account)
    if record is None:
        return _outcome([m.text(NO_PASS)])
    context = context_of(db)
    image = {
        "type": "image",
        "originalContentUrl": signed_url(context, "qr", record.pass_id),
        "previewImageUrl": signed_url(context, "preview", record.pass_id),
    }
    return _outcome([image, m.text("長按圖片即可儲存通行碼（連結 10 分鐘內有效）。出示時請攜帶身分證。")])


def pass_print(db: Session, caller: Caller, account: User) -> Any:
    if account.role == Role.ENTERPRISE_ADMIN.value:
        return _sheet(db, account)
    record = _employee_pass(db, account)
    if record is None:
        return _outcome([m.text(NO_PASS)])
    pdf = signed_url(context_of(db), "pdf", record.pass_id)
    return _outcome(
        [
            _link_bubble(
                "列印通行碼", ["A4 列印用 PDF，連結 10 分鐘內有效。", "出示時請攜帶身分證。"], "開啟 PDF", pdf
            )
        ]
    )


def _sheet(db: Session, account: User) -> Any:
    """The enterprise's printable sheet: rendering it is slow, so the reply says so and the link comes
    by push when the PDF is ready (hub.line.webhook runs `later`)."""
    return _outcome(
        [m.text("正在產生全體員工通行碼的列印檔，完成後會傳送連結給您。")], later=("sheet", account.id)
    )


# --- enterprise admin ---


def pass_list(db: Session, caller: Caller, account: User) -> Any:
    now = utcnow()
    assert account.org_id is not None
    rows = passes.list_passes(db, Scope.of(account), org_id=account.org_id)
    valid = [p for p in rows if p.revoked_at is None and p.expires_at > now]
    lines = [f"{mask_name(p.holder_name)}　有效至 {taipei(p.expires_at)}" for p in valid[:10]]
    more = f"\n…另有 {len(valid) - 10} 張" if len(valid) > 10 else ""
    summary = f"有效通行碼 {len(valid)} 張（已撤銷或過期 {len(rows) - len(valid)} 張）"
    return _outcome(
        [
            m.text(summary + ("\n" + "\n".join(lines) if lines else "") + more),
            _link_bubble(
                "通行碼名單管理",
                ["新增員工（單筆或 Excel 匯入）、申請或撤銷通行碼。"],
                "開啟名單管理",
                liff_url(db, "enterprise", "enterprise/employees"),
            ),
        ]
    )


def venue_apply(db: Session, caller: Caller, account: User) -> Any:
    assert account.org_id is not None
    _, existing = venues.list_venues(db, Scope.of(account), org_id=account.org_id)
    lines = [f"{v.name}：{venues.venue_url(db, v)}" for v in existing[:10]] or ["尚未申請實聯碼。"]
    return _outcome(
        [
            _link_bubble(
                "申請實聯碼",
                [
                    "填寫申請公司/店家名稱、統一編號、營業地址、聯絡人與電話。",
                    "可一次申請多個實聯碼（名稱 8 字以內）。",
                ],
                "填寫申請表",
                liff_url(db, caller.channel.value, f"{caller.channel.value}/venues"),
            ),
            m.text("已申請的實聯碼：\n" + "\n".join(lines)),
        ]
    )


# --- police ---


# A station admin is not a duty officer until on the roster; the roster is read at every tap, so adding
# oneself with the name and mobile bound here is all it takes (hub.line.binding.accounts_of).
NOT_ON_ROSTER = (
    "您是分局管理者，但不在本分局的執勤名單上，所以還不能掃碼核實。"
    "請點選單的「執勤 名單」，以您在此綁定的姓名及手機號碼把自己加入執勤名單（姓名、警員編號、手機），"
    "再點「掃碼 核實」即可。"
)


def scan(db: Session, caller: Caller, account: User) -> Any:
    return _outcome(
        [
            _link_bubble(
                "掃碼核實",
                ["掃描通行碼後顯示核准通行或不予通行，並請核對持有人的身分證。"],
                "開始掃碼",
                liff_url(db, "police", "police/scan"),
            )
        ]
    )


def duty_roster(db: Session, caller: Caller, account: User) -> Any:
    assert account.org_id is not None  # run() sends a station admin without a station to registration
    officers = rosters.list_officers(db, Scope.of(account), station_id=account.org_id, masked=True)
    lines = [f"{mask_name(o.name)}　{o.officer_number}　{mask_mobile(o.mobile)}" for o in officers[:20]]
    head = f"執勤名單：{len(officers)} 人"
    more = f"\n…另有 {len(officers) - 20} 人" if len(officers) > 20 else ""
    return _outcome(
        [
            m.text(head + ("\n" + "\n".join(lines) if lines else "") + more),
            _link_bubble(
                "執勤名單管理",
                ["新增、修改、刪除執勤警員（姓名、警員編號、手機），或以 Excel 批次匯入。"],
                "開啟執勤名單",
                liff_url(db, "police", "police/roster"),
            ),
        ]
    )


def station_register(db: Session, caller: Caller, account: User) -> Any:
    """A station admin whose station is not registered yet: every station item leads to the form."""
    return _outcome(
        [
            _link_bubble(
                "申請警局",
                ["您的分局尚未註冊。請填寫分局名稱、地址與聯絡資料，並以您的手機接收簡訊驗證碼。"],
                "填寫分局註冊表",
                liff_url(db, "police", "police/register"),
            )
        ]
    )


def checks(db: Session, caller: Caller, account: User) -> Any:
    since = utcnow() - dt.timedelta(days=1)
    register = queries.read_check_register(db, Scope.of(account), since=since, station_id=account.org_id)
    rows = register.rows[:10]
    lines = [
        " ".join(
            (
                taipei(r["scanned_at"]),
                "核准通行" if r["ok"] else "不予通行",
                r["holder_name"] or "",
                r["officer_name"] or "",
            )
        )
        for r in rows
    ]
    return _outcome(
        [m.text(f"本分局 24 小時內查驗 {len(register.rows)} 筆" + ("\n" + "\n".join(lines) if lines else ""))]
    )


Action = Callable[[Session, Caller, User], Any]
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
        return _outcome([m.text("無法辨識的操作，請使用下方選單。")])
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
        return _outcome([m.text(NOT_ON_ROSTER)])
    names = "、".join(ROLE_LABELS[r.value] for r in roles)
    return _outcome([m.text(f"此功能僅限{names}使用。")])
