"""A console form sent twice acts once (hub/services/console_intents.py): two CONCURRENT posts of the same
rendered form — a double click without JavaScript — for real forms (adding an employee, issuing passes,
revoking a pass, adding a roster officer, adding an admin): the effect happens once and both answers agree.
Also: a repeat after the first answer, a refused submission that can be corrected and sent
again, and every POST form of every template carrying its intent token."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hub.models.audit import AuditEvent
from hub.models.console import ConsoleIntent
from hub.models.identity import User
from hub.models.passes import Pass
from hub.models.rosters import Employee, Officer
from tests.hub.console.consolekit import Console, form_of
from tests.hub.console.test_console_pages import _enterprise_console, super_console  # noqa: F401
from tests.hub.console.test_console_whitelists import _station_console

TEMPLATES = Path(__file__).resolve().parents[3] / "hub" / "console" / "templates"


def _twice_at_once(console: Console, action: str, data: dict[str, Any], *, page: str) -> list[Any]:
    """The form to `action` as rendered once on `page`, posted twice at the same moment."""
    fields = {**form_of(console.get(page).text, action), **data}
    assert fields.get("intent"), "the form carries no intent token"
    start = threading.Barrier(2)

    def send() -> Any:
        start.wait()
        return console.send(action, fields)

    with ThreadPoolExecutor(2) as pool:
        answers = [f.result() for f in [pool.submit(send), pool.submit(send)]]
    return answers


def _agree(answers: list[Any]) -> str:
    """Both answers are the same redirect; returns where it leads."""
    assert [a.status_code for a in answers] == [303, 303], [a.text[:500] for a in answers]
    first, second = (a.headers["location"] for a in answers)
    assert first == second
    return first


def _count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_adding_an_employee_twice_at_once_adds_one(hub, client, sms, db):
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    answers = _twice_at_once(
        console,
        f"{page}/employees",
        {"name": "陳小明", "mobile": "0912345675", "national_id": "A123456789"},
        page=page,
    )
    location = _agree(answers)
    assert _count(db, Employee, Employee.org_id == org_id) == 1
    shown = console.get(location).text
    assert "已新增員工" in shown and 'class="error"' not in shown


def test_issuing_passes_twice_at_once_issues_each_once(hub, client, sms, db, keys_dir):
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    for name, mobile, nid in (("陳小明", "0912345675", "A123456789"), ("林小華", "0912345676", "B123456780")):
        console.post(
            f"{page}/employees", {"name": name, "mobile": mobile, "national_id": nid}, token_from=page
        )
    ids = re.findall(r'name="employee_ids" value="(\d+)"', console.get(page).text)
    assert len(ids) == 2
    location = _agree(_twice_at_once(console, f"{page}/passes", {"employee_ids": ids}, page=page))
    assert _count(db, Pass, Pass.org_id == org_id) == 2  # not 4
    assert _count(db, Pass, Pass.org_id == org_id, Pass.revoked_at.is_not(None)) == 0  # none superseded
    assert "已核發 2 張通行證" in console.get(location).text


def test_revoking_a_pass_twice_at_once_revokes_once(hub, client, sms, db, keys_dir):
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    console.post(
        f"{page}/employees",
        {"name": "陳小明", "mobile": "0912345675", "national_id": "A123456789"},
        token_from=page,
    )
    employee_id = re.search(r'name="employee_ids" value="(\d+)"', console.get(page).text).group(1)
    console.post(f"{page}/passes", {"employee_ids": [employee_id]}, token_from=page)
    pass_id = re.search(r'action="/console/passes/([0-9a-f]{32})/revoke"', console.get(page).text).group(1)
    action = f"/console/passes/{pass_id}/revoke"
    asked = console.post_form(action, {"reason": "離職"}, page=page)
    assert asked.status_code == 200 and 'id="confirm"' in asked.text  # asks first
    confirm_page = asked.text
    # The confirmation form, clicked twice: it carries the revoke form's own intent.
    fields = form_of(confirm_page, action)
    assert fields["confirmed"] == "1" and fields["reason"] == "離職" and fields["intent"]
    start = threading.Barrier(2)

    def send() -> Any:
        start.wait()
        return console.send(action, fields)

    with ThreadPoolExecutor(2) as pool:
        answers = [f.result() for f in [pool.submit(send), pool.submit(send)]]
    location = _agree(answers)
    assert _count(db, AuditEvent, AuditEvent.action == "pass.revoked") == 1
    assert "已撤銷通行證" in console.get(location).text


def test_adding_an_officer_twice_at_once_adds_one(super_console, client, sms, db):  # noqa: F811
    console, station_id = _station_console(
        super_console, client, sms, db, "板橋分局", "0922000001", "A123456789"
    )
    roster = f"/console/stations/{station_id}/roster"
    answers = _twice_at_once(
        console,
        f"/console/stations/{station_id}/officers",
        {"name": "王警員", "officer_number": "A001", "mobile": "0922000004"},
        page=roster,
    )
    _agree(answers)
    assert _count(db, Officer, Officer.station_id == station_id) == 1


def test_adding_an_admin_twice_at_once_adds_one_and_sends_one_password(super_console, sms, db):  # noqa: F811
    answers = _twice_at_once(
        super_console,
        "/console/admins",
        {"name": "王一般", "mobile": "0911000002", "permissions": ["query.passes"]},
        page="/console/admins",
    )
    location = _agree(answers)
    assert _count(db, User, User.mobile == "+886911000002") == 1
    assert len(sms.messages("+886911000002")) == 1
    assert "已新增" in super_console.get(location).text


def test_a_repeat_after_the_answer_answers_the_same_and_does_nothing(hub, client, sms, db):
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    action = f"{page}/employees"
    fields = {
        **form_of(console.get(page).text, action),
        "name": "陳小明",
        "mobile": "0912345675",
        "national_id": "A123456789",
    }
    first = console.send(action, fields)
    again = console.send(action, fields)  # the back button and "send again", or a reload of the POST
    assert _agree([first, again]) == f"{page}?done=employee_added"
    assert _count(db, Employee, Employee.org_id == org_id) == 1


def test_a_refused_submission_keeps_its_intent_for_the_corrected_one(hub, client, sms, db):
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    action = f"{page}/employees"
    fields = form_of(console.get(page).text, action)
    wrong = console.send(action, {**fields, "name": "陳小明", "mobile": "0912", "national_id": "A123456789"})
    assert wrong.status_code == 400
    assert _count(db, ConsoleIntent) == 0  # nothing done, nothing claimed
    # What was typed is still in the form, with the same intent to send it again.
    assert 'value="陳小明"' in wrong.text and 'value="0912"' in wrong.text
    assert form_of(wrong.text, action)["intent"] != ""
    right = console.send(
        action, {**fields, "name": "陳小明", "mobile": "0912345675", "national_id": "A123456789"}
    )
    assert right.status_code == 303
    assert _count(db, Employee, Employee.org_id == org_id) == 1


def test_every_post_form_carries_an_intent_token():
    """One rule for every state-changing form: the form tokens macro (CSRF and intent) is in each."""
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r'<form method="post"', text):
            body = text[match.start() : text.find("</form>", match.start())]
            if template.name == "confirm.html":
                assert "fields" in body  # sends the asked form's own fields, its intent among them
                continue
            assert "page.form_tokens()" in body, f"{template.name}: a POST form without its intent token"
