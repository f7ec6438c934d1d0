"""What a person SEES on the LIFF pages, in Chromium at phone size (the LIFF SDK faked as in
test_liff_pages.py; ID tokens from the LINE stand-in, checked by the hub for real): an element the page
hides is not on screen, whatever the stylesheet gives it; the police scan page never shows one
holder's data under another scan's verdict, in every order of verdicts; each answer of the registration
forms has its own page state; a double tap sends one request. Screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
import secrets
from itertools import product
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from crypto.passes import PassClaims, encode_pass
from hub.models.organisations import Organisation, RegistrationClaim
from hub.models.venues import Visit
from hub.services.keys import keystore
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser  # noqa: F401  (fixture)

ENTERPRISE_LIFF = "2000000001-enterpri"
POLICE_LIFF = "2000000001-policeAB"

# Elements the page marked `hidden` that still take room on screen (the bug: `dl{display:grid}` and
# `button{display:block}` beat the attribute). Must always be empty.
SHOWN_THOUGH_HIDDEN = """() => [...document.querySelectorAll('[hidden]')]
  .filter((e) => e.getClientRects().length > 0).map((e) => e.id || e.tagName)"""


def _nothing_hidden_shows(page: Any) -> None:
    assert page.evaluate(SHOWN_THOUGH_HIDDEN) == []


def _visible_text(page: Any) -> str:
    return str(page.locator("main").inner_text())  # innerText: what is rendered, not what is hidden


# --- the police scan page: every order of verdicts ---


def _de_bruijn(k: int) -> list[int]:
    """A sequence over 0..k-1 in which every ordered pair (a, b), a == b included, follows once."""
    a = [0] * 3
    cycle: list[int] = []

    def walk(t: int, p: int) -> None:
        if t > 2:
            if 2 % p == 0:
                cycle.extend(a[1 : p + 1])
            return
        a[t] = a[t - p]
        walk(t + 1, p)
        for j in range(a[t - p] + 1, k):
            a[t] = j
            walk(t + 1, t)

    walk(1, 1)
    return cycle + cycle[:1]


def _employee(client: TestClient, token: str, org_id: int, name: str, mobile: str, nid: str) -> int:
    response = client.post(
        f"/api/v1/enterprises/{org_id}/employees",
        json={"name": name, "mobile": mobile, "national_id": nid},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _issue(client: TestClient, token: str, org_id: int, employee_id: int, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/enterprises/{org_id}/employees/{employee_id}/passes", json=body, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _expired_pass(db: Session, holder: str, masked_id: str) -> str:
    """A pass the hub's own issuer key signed, valid last month: what a checkpoint meets as expired."""
    key = keystore(db).active_issuer()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims = PassClaims(
        pass_id=secrets.token_bytes(16),
        issuer_kid=key.kid,
        serial=4000,
        holder_name=holder,
        masked_national_id=masked_id,
        org_id="28010606",
        org_name="艾斯移動股份有限公司",
        kind="employee",
        issued_at=now - 40 * 86400,
        not_before=now - 40 * 86400,
        expires_at=now - 10 * 86400,
    )
    return encode_pass(claims, key)


@pytest.fixture
def verdicts(
    hub: Hub, client: TestClient, db: Session, keys_dir: Any, super_admin_token: str, sms: SmsOutbox
) -> dict[str, Any]:
    """A pass of each verdict, each of another person: valid, revoked, not yet valid, expired, and text
    that is no pass at all. And a bound duty officer."""
    token, org = hub.register_enterprise()
    valid = _issue(
        client, token, org["id"], _employee(client, token, org["id"], "王大明", "0955000001", "A123456789")
    )
    revoked = _issue(
        client, token, org["id"], _employee(client, token, org["id"], "李小華", "0955000002", "B223456782")
    )
    assert (
        client.post(
            f"/api/v1/passes/{revoked['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(token)
        ).status_code
        == 200
    )
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    future = _issue(
        client,
        token,
        org["id"],
        _employee(client, token, org["id"], "張三豐", "0955000003", "C198765437"),
        not_before=later,
    )
    station = hub.create_station(super_admin_token)
    admin = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    officer = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(admin),
    )
    assert officer.status_code == 201, officer.text
    # kind: (scanned text, the verdict, the reason, the holder's masked name or None, the masked ID)
    return {
        "valid": (valid["text"], "核准通行", "通行碼有效", "王*明", "A12*4*6*8*"),
        "revoked": (revoked["text"], "不予通行", "通行碼已撤銷", "李*華", "B22*4*6*8*"),
        "not_a_pass": ("https://example.com/menu?table=7", "不予通行", "不是本系統的通行碼", None, None),
        "expired": (
            _expired_pass(db, "陳美玲", "D27*5*3*1*"),
            "不予通行",
            "通行碼已過期",
            "陳*玲",
            "D27*5*3*1*",
        ),
        "not_yet_valid": (future["text"], "不予通行", "通行碼尚未生效", "張*豐", "C19*7*5*3*"),
    }


def _scan(page: Any, text: str, first: bool) -> None:
    page.evaluate("(v) => { window.__scanValue = v; }", text)
    page.get_by_role("button", name="掃描通行碼" if first else "繼續掃描").click()


def _sees(page: Any, expected: tuple[str, str, str, str | None, str | None], others: list[str]) -> None:
    _text, word, reason, holder, masked_id = expected
    page.locator("#verdict-reason").filter(has_text=reason).wait_for(state="visible")
    assert page.locator("#verdict-word").is_visible() and page.locator("#verdict-word").inner_text() == word
    shown = _visible_text(page)
    _nothing_hidden_shows(page)
    if holder is None:
        # no holder at all: not the block, not its labels, not anyone's name
        assert not page.locator("#holder").is_visible() and page.locator("#holder").bounding_box() is None
        labels = shown.replace(page.locator("#reminder").inner_text(), "")  # the reminder names them
        if page.locator("#next-id").is_visible():  # the ID-card check's own button names the ID card
            labels = labels.replace(page.locator("#next-id").inner_text(), "")
        assert "持有人" not in labels and "身分證" not in labels and "企業" not in labels
    else:
        assert page.locator("#holder").is_visible()
        assert page.locator("#holder-name").inner_text() == holder
        assert page.locator("#holder-id").inner_text() == masked_id
    for name in others:
        if name != holder:
            assert name not in shown, (reason, name)


def test_the_scan_page_shows_only_this_scans_holder_in_every_order_of_verdicts(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    verdicts: dict[str, Any],
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    kinds = list(verdicts)
    names = [v[3] for v in verdicts.values() if v[3]]
    order = [kinds[i] for i in _de_bruijn(len(kinds))]
    assert set(zip(order, order[1:], strict=False)) == set(product(kinds, kinds))  # every pair, in order

    token = standin.issue_id_token(officer.user_id, "陳警員")
    page = _phone(browser, {"liffId": POLICE_LIFF, "idToken": token, "scanValue": ""})
    page.goto(served_hub + "/liff/police/scan")
    page.get_by_role("button", name="掃描通行碼").wait_for()
    _nothing_hidden_shows(page)
    for step, kind in enumerate(order):
        _scan(page, verdicts[kind][0], first=step == 0)
        _sees(page, verdicts[kind], names)
        if step and order[step - 1] in ("valid", "revoked") and kind == "not_a_pass":
            _shot(page, f"police-scan-not-a-pass-after-{order[step - 1]}")
    page.context.close()

    # each verdict as the first of a page too (a first refusal has no empty holder labels)
    for kind in kinds:
        fresh = _phone(browser, {"liffId": POLICE_LIFF, "idToken": token, "scanValue": ""})
        fresh.goto(served_hub + "/liff/police/scan")
        _scan(fresh, verdicts[kind][0], first=True)
        _sees(fresh, verdicts[kind], names)
        fresh.context.close()


# --- every LIFF page: hidden is hidden, in LINE and outside it ---


@pytest.fixture
def venue_code(hub: Hub, client: TestClient) -> str:
    token, org = hub.register_enterprise(mobile="+886933000009", ubn="04595257", name="別家公司")
    venue = client.post(
        f"/api/v1/organisations/{org['id']}/venues",
        json={
            "names": ["大門"],
            "address": "新北市板橋區中山路一段161號",
            "contact_name": "曾可愛",
            "contact_phone": "0229603456",
        },
        headers=bearer(token),
    )
    assert venue.status_code == 201, venue.text
    return str(venue.json()[0]["code"])


PAGES = [
    "/liff/police/scan",
    "/liff/enterprise/register",
    "/liff/enterprise/venues",
    "/liff/police/venues",
    "/liff/enterprise/employees",
    "/liff/police/register",
    "/liff/police/roster",
    "/liff/footprint",
    "/liff/enterprise/pass",
]


def test_no_liff_page_shows_what_it_hides(
    browser: Any,  # noqa: F811
    served_hub: str,
    standin: StandIn,
    venue_code: str,
) -> None:
    for path in [*PAGES, f"/v/{venue_code}"]:
        outside = _phone(browser, None)  # an ordinary phone browser: no LINE
        outside.goto(served_hub + path)
        outside.wait_for_load_state("networkidle")
        assert outside.evaluate(SHOWN_THOUGH_HIDDEN) == [], path
        if path == "/liff/enterprise/employees":
            assert not outside.get_by_role("button", name="為尚無通行碼的員工申請通行碼").is_visible()
            _shot(outside, "employees-outside-line")
        outside.context.close()
        liff = POLICE_LIFF if "/police/" in path else ENTERPRISE_LIFF
        inside = _phone(browser, {"liffId": liff, "idToken": standin.issue_id_token("U" + "7" * 32)})
        inside.goto(served_hub + path)
        inside.wait_for_load_state("networkidle")
        assert inside.evaluate(SHOWN_THOUGH_HIDDEN) == [], path
        inside.context.close()


# --- the enterprise registration page: one state per answer ---


def _fill_registration(page: Any, served_hub: str, ubn: str, mobile: str, sms: SmsOutbox) -> str:
    page.goto(served_hub + "/liff/enterprise/register")
    page.fill("#company_name", "新公司股份有限公司")
    page.fill("#ubn", ubn)
    page.fill("#admin_name", "林小姐")
    page.fill("#admin_mobile", mobile)
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    page.get_by_role("button", name="驗證碼已傳送").wait_for()
    return sms.code("+886" + mobile[1:])


def _state(page: Any) -> dict[str, bool]:
    return {s: page.locator(f"#{s}").is_visible() for s in ("form", "done", "review", "error")}


def test_each_answer_of_the_registration_has_its_own_page_state(
    browser: Any,  # noqa: F811
    served_hub: str,
    hub: Hub,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
) -> None:
    hub.register_enterprise()  # 28010606 is taken

    # refused (a wrong code): the reason, the form kept to correct, nothing else
    page = _phone(browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token("U" + "1" * 32)})
    code = _fill_registration(page, served_hub, "04595257", "0966000001", sms)
    page.fill("#code", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="註冊").click()
    page.locator("#error").wait_for(state="visible")
    assert _state(page) == {"form": True, "done": False, "review": False, "error": True}
    assert "驗證碼不正確" in page.locator("#error").inner_text()
    assert "註冊成功" not in _visible_text(page)
    _nothing_hidden_shows(page)

    # bound: the same page, the right code; the earlier error is gone
    page.fill("#code", code)
    page.get_by_role("button", name="註冊").click()
    page.locator("#done").wait_for(state="visible")
    assert _state(page) == {"form": False, "done": True, "review": False, "error": False}
    assert page.locator("#done-detail").inner_text() == "新公司股份有限公司"
    _shot(page, "register-bound")
    page.context.close()

    # held for review (the 統一編號 is taken): said so, never 註冊成功; nobody bound
    held = _phone(browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token("U" + "2" * 32)})
    code = _fill_registration(held, served_hub, "28010606", "0966000002", sms)
    held.fill("#code", code)
    held.get_by_role("button", name="註冊").click()
    held.locator("#review").wait_for(state="visible")
    assert _state(held) == {"form": False, "done": False, "review": True, "error": False}
    shown = _visible_text(held)
    assert "已送交審核" in shown and "尚未完成註冊" in shown and "註冊成功" not in shown
    _nothing_hidden_shows(held)
    _shot(held, "register-held-for-review")
    held.context.close()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(RegistrationClaim)) == 1

    # refused (this LINE user is bound already, to another registration): the reason
    again = _phone(browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token("U" + "1" * 32)})
    code = _fill_registration(again, served_hub, "12345675", "0966000003", sms)
    again.fill("#code", code)
    again.get_by_role("button", name="註冊").click()
    again.locator("#error").wait_for(state="visible")
    assert _state(again) == {"form": True, "done": False, "review": False, "error": True}
    assert "已綁定" in again.locator("#error").inner_text()
    again.context.close()
    assert db.scalar(select(func.count()).select_from(Organisation)) == 2


# --- a double tap sends one request ---


def test_a_double_tap_on_a_form_sends_one_request(
    browser: Any,  # noqa: F811
    served_hub: str,
    sms: SmsOutbox,
    db: Session,
    venue_code: str,
) -> None:
    page = _phone(browser, None)  # the venue page outside LINE: mobile and SMS code, then 登記
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/visits" in r.url else None)
    page.goto(served_hub + f"/v/{venue_code}")
    page.fill("#mobile", "0966123456")
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    page.get_by_role("button", name="驗證碼已傳送").wait_for()
    page.fill("#code", sms.code("+886966123456"))
    page.get_by_role("button", name="登記").dblclick()
    page.locator("#done").wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    assert len(posts) == 1
    assert page.locator("#done .verdict").inner_text() == "登記完成"
    assert not page.locator("#error").is_visible()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Visit)) == 1
    page.context.close()


def test_each_answer_of_the_station_registration_has_its_own_page_state(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    super_admin_token: str,
) -> None:
    listed = client.post(
        "/api/v1/station-admins",
        json={"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        headers=bearer(super_admin_token),
    )
    assert listed.status_code == 201, listed.text

    def submit(user: str, mobile: str, name: str = "板橋分局", wrong: bool = False) -> Any:
        page = _phone(browser, {"liffId": POLICE_LIFF, "idToken": standin.issue_id_token(user)})
        page.goto(served_hub + "/liff/police/register")
        page.fill("#name", name)
        page.fill("#address", "新北市板橋區漢生東路21號")
        page.fill("#contact_name", "王小明")
        page.fill("#contact_phone", "0229603456")
        page.fill("#admin_mobile", mobile)
        page.get_by_role("button", name="取得簡訊驗證碼").click()
        page.get_by_role("button", name="驗證碼已傳送").wait_for()
        code = sms.code("+886" + mobile[1:])
        page.fill("#code", ("000000" if code != "000000" else "111111") if wrong else code)
        page.get_by_role("button", name="註冊分局").click()
        page.locator("#done:not([hidden]), #error:not([hidden])").wait_for(state="visible")
        _nothing_hidden_shows(page)
        return page

    def refused(page: Any, words: str) -> None:
        assert _state(page) == {"form": True, "done": False, "review": False, "error": True}
        assert words in page.locator("#error").inner_text()
        assert "註冊成功" not in _visible_text(page)
        page.context.close()

    refused(submit("U" + "4" * 32, "0966000001"), "不在分局管理員名單")
    refused(submit("U" + "4" * 32, "0922000001", wrong=True), "驗證碼不正確")
    done = submit("U" + "5" * 32, "0922000001")
    assert _state(done) == {"form": False, "done": True, "review": False, "error": False}
    assert done.locator("#done-detail").inner_text() == "板橋分局"
    done.context.close()
    refused(submit("U" + "6" * 32, "0922000001", name="新莊分局"), "您的分局已註冊（板橋分局）")
