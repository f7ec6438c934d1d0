"""下載列印實聯碼 and a venue's 28-day visits in LINE, for its organisation's admins (enterprise and
station): the posters by a signed link pushed after the reply, the visits masked and audited; from the
side of another organisation's admin, an employee and a stranger too."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.db import utcnow
from hub.models.audit import AuditEvent
from hub.models.venues import Visit
from tests.hub.documents.doc_pdf_tools import pdf_text
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat

ADMIN = "+886933000001"
OTHER_ADMIN = "+886933000002"
VISITOR = "+886955123456"


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> None:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")


def _venues(client: TestClient, token: str, org_id: int, names: list[str]) -> list[dict[str, Any]]:
    made = client.post(
        f"/api/v1/organisations/{org_id}/venues",
        json={
            "names": names,
            "address": "新北市板橋區中山路一段161號",
            "contact_name": "曾可愛",
            "contact_phone": "0229603456",
        },
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    return list(made.json())


def _local(client: TestClient, url: str) -> Any:
    parts = urlsplit(url)
    return client.get(parts.path + "?" + parts.query)


def _pushed_link(standin: StandIn, chat: LineChat, since: int) -> str:
    pushed = [
        c
        for c in standin.calls(chat.channel, "pushMessage")[since:]
        if c.status == 200 and c.body["to"] == chat.user_id
    ]
    assert len(pushed) == 1, pushed
    found = re.search(r"http\S+", pushed[0].body["messages"][0]["text"])
    assert found is not None
    return found.group(0)


def _audited(db: Session, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def two_enterprises(hub: Hub, keys_dir: Any) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    mine = hub.register_enterprise(mobile=ADMIN)
    theirs = hub.register_enterprise(mobile=OTHER_ADMIN, ubn="04595257", name="另一家公司")
    return mine, theirs


def test_enterprise_admin_prints_venue_posters_from_the_chat(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, two_enterprises: Any
) -> None:
    (token, org), (other_token, other) = two_enterprises
    _venues(client, token, org["id"], ["大門", "後門"])
    _venues(client, other_token, other["id"], ["別家門口"])
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, ADMIN)

    # 申請企業實聯碼 lists the codes and offers the next steps as quick replies
    applied = chat.tap("a=venue_apply")
    items = [i["action"] for i in applied[-1]["quickReply"]["items"]]
    assert items[0]["data"] == "a=venue_posters" and items[0]["label"] == "下載列印實聯碼"
    assert [i["label"] for i in items[1:]] == ["大門 登記紀錄", "後門 登記紀錄"]

    since = len(standin.calls("enterprise", "pushMessage"))
    reply = chat.tap("a=venue_posters")
    assert reply[0]["text"].startswith("正在產生 2 個實聯碼的列印海報")
    link = _pushed_link(standin, chat, since)
    assert "/line/files/posters/" in link
    pdf = _local(client, link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "大門" in text and "後門" in text and "別家門口" not in text and text.count("實聯登記") == 2
    # the link is the permission, for this file only: another kind, a changed signature, an old expiry
    assert _local(client, link.replace("/posters/", "/sheet/")).status_code == 410
    assert _local(client, re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 32, link)).status_code == 410
    assert _local(client, re.sub(r"exp=\d+", "exp=1", link)).status_code == 410

    # typed, in the chat's words, and pressed twice: two answers, each with its own link
    since = len(standin.calls("enterprise", "pushMessage"))
    assert chat.say("下載列印實聯碼")[0]["text"].startswith("正在產生 2 個")
    assert _local(client, _pushed_link(standin, chat, since)).status_code == 200


def test_other_admins_employees_and_strangers_get_no_posters(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, two_enterprises: Any
) -> None:
    (token, org), (other_token, other) = two_enterprises
    _venues(client, token, org["id"], ["大門"])
    employee = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "王大明", "mobile": "+886955000001", "national_id": "F131104093"},
        headers=bearer(token),
    )
    assert employee.status_code == 201, employee.text

    # the other enterprise's admin (no venue code of its own): its own answer, never this one's posters
    theirs = LineChat(client, standin, "enterprise")
    _bind(theirs, sms, OTHER_ADMIN)
    since = len(standin.calls("enterprise", "pushMessage"))
    answer = theirs.tap(f"a=venue_posters&org_id={org['id']}")
    assert "尚未申請實聯碼" in str(answer) and "大門" not in str(answer)
    assert standin.calls("enterprise", "pushMessage")[since:] == []

    worker = LineChat(client, standin, "enterprise")
    _bind(worker, sms, "+886955000001")
    assert worker.tap("a=venue_posters")[0]["text"].startswith("此功能僅限企業管理者")
    assert worker.say("下載列印實聯碼")[0]["text"].startswith("此功能僅限企業管理者")
    stranger = LineChat(client, standin, "enterprise")
    assert stranger.tap("a=venue_posters")[0]["text"].startswith("請先點選單")
    assert standin.calls("enterprise", "pushMessage")[since:] == []


def test_admin_reads_a_venues_visits_masked_and_audited(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, two_enterprises: Any
) -> None:
    (token, org), (other_token, other) = two_enterprises
    door, back = _venues(client, token, org["id"], ["大門", "後門"])
    (elsewhere,) = _venues(client, other_token, other["id"], ["別家門口"])
    now = utcnow()
    db.add_all(
        [
            Visit(venue_id=door["id"], mobile=VISITOR, visited_at=now - dt.timedelta(hours=1)),
            Visit(venue_id=door["id"], mobile="+886955654321", visited_at=now - dt.timedelta(days=3)),
            Visit(venue_id=door["id"], mobile=VISITOR, visited_at=now - dt.timedelta(days=40)),  # too old
            Visit(venue_id=elsewhere["id"], mobile=VISITOR, visited_at=now),
        ]
    )
    db.commit()
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, ADMIN)

    chosen = chat.tap("a=venue_visits")
    assert chosen[0]["text"].startswith("請選擇要查看近 28 日登記紀錄的實聯碼")
    assert _audited(db, "query.venue_visits") == []  # nothing read before a venue is chosen

    read = chat.tap(f"a=venue_visits&v={door['id']}")[0]["text"]
    assert read.startswith("大門：近 28 日實聯登記 2 筆")
    assert "0955123456" not in read and "955123456" not in read
    assert read.index("09***2***6") < read.index("09***5***1")  # masked, newest first
    assert read.count("台北時間") == 2
    audited = _audited(db, "query.venue_visits")
    assert [(a.target, a.details["results"]) for a in audited] == [(f"venue:{door['id']}", 2)]
    assert chat.tap(f"a=venue_visits&v={back['id']}")[0]["text"].startswith("後門：近 28 日實聯登記 0 筆")

    # another organisation's venue, a made-up id, junk: one answer, nothing read, nothing audited
    for forged in (elsewhere["id"], 999999, "x"):
        answer = chat.tap(f"a=venue_visits&v={forged}")[0]
        assert answer["text"].startswith("查無此實聯碼"), forged
        assert "別家門口" not in str(answer)
    assert len(_audited(db, "query.venue_visits")) == 2


def test_station_admin_prints_posters_and_reads_visits(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    station = hub.create_station(super_admin_token)
    admin_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    (venue,) = _venues(client, admin_token, station["id"], ["分局大廳"])
    db.add(Visit(venue_id=venue["id"], mobile=VISITOR, visited_at=utcnow()))
    db.commit()
    chat = LineChat(client, standin, "police")
    _bind(chat, sms, "+886922000001", "林警官")
    since = len(standin.calls("police", "pushMessage"))
    assert chat.tap("a=venue_posters")[0]["text"].startswith("正在產生 1 個實聯碼")
    assert _local(client, _pushed_link(standin, chat, since)).status_code == 200
    read = chat.tap(f"a=venue_visits&v={venue['id']}")[0]["text"]
    assert read.startswith("分局大廳：近 28 日實聯登記 1 筆") and "0955123456" not in read
