"""Refusals the same way everywhere: a refused console form comes back as the form the person was on, with
what they typed, the refusal in their language and REST's status (`hub.console.web.shows_refusals`); the
corrected form goes through once. A rule such as "a revoke needs a reason" is the service's, so REST, the
console and every other caller of the service (LINE's handlers call the same services) refuse alike."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hub.i18n import catalogue
from hub.models.audit import AuditEvent
from hub.models.console import ConsoleIntent
from hub.models.identity import User
from hub.models.passes import Pass
from hub.models.rosters import Employee
from hub.services import errors as domain
from hub.services import passes
from hub.services.scope import Scope
from tests.hub.console.consolekit import Console, form_of
from tests.hub.console.test_console_pages import _enterprise_console, super_console  # noqa: F401
from tests.hub.hubkit import bearer


def _count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _message(language: str, key: str) -> str:
    return catalogue.text(language, key)


@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_a_refused_form_comes_back_typed_in_the_persons_language_and_the_corrected_one_acts_once(
    hub, client, sms, db, language
):
    console, org_id = _enterprise_console(hub, client, sms)
    if language == "en":
        assert console.get(f"/console/lang?to=en&next=/console/enterprises/{org_id}").status_code == 303
    page = f"/console/enterprises/{org_id}"
    action = f"{page}/employees"
    first = {"name": "陳小明", "mobile": "0912345675", "national_id": "A123456789"}
    assert console.post_form(action, first, page=page).status_code == 303

    # The same mobile again, for another person: the service's refusal (409), shown on the form.
    fields = form_of(console.get(page).text, action)
    claimed = _count(db, ConsoleIntent)  # the first form's, answered
    typed = {"name": "林小華", "mobile": "0912345675", "national_id": "B123456780"}
    refused = console.send(action, {**fields, **typed})
    assert refused.status_code == 409
    assert _message(language, "refusal.duplicate.mobile") in refused.text
    other = "zh-TW" if language == "en" else "en"
    assert _message(other, "refusal.duplicate.mobile") not in refused.text
    assert 'value="林小華"' in refused.text and 'value="B123456780"' in refused.text  # what was typed
    assert _count(db, ConsoleIntent) == claimed  # the refused submission claimed nothing
    assert _count(db, Employee, Employee.org_id == org_id) == 1

    # Corrected and sent with the same form (the same intent token): done once, a repeat answers the same.
    corrected = {**fields, **typed, "mobile": "0912345676"}
    done = console.send(action, corrected)
    again = console.send(action, corrected)
    assert done.status_code == again.status_code == 303
    assert done.headers["location"] == again.headers["location"] == f"{page}?done=employee_added"
    assert _count(db, Employee, Employee.org_id == org_id) == 2


def test_a_refused_edit_comes_back_as_its_own_edit_form(hub, client, sms, db):
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    for name, mobile, nid in (("陳小明", "0912345675", "A123456789"), ("林小華", "0912345676", "B123456780")):
        console.post_form(
            f"{page}/employees", {"name": name, "mobile": mobile, "national_id": nid}, page=page
        )
    first_id = min(db.scalars(select(Employee.id).where(Employee.org_id == org_id)))
    edit = f"{page}/employees/{first_id}"
    refused = console.post_form(edit, {"mobile": "0912345676"}, page=edit)  # the other one's mobile
    assert refused.status_code == 409
    assert (
        f'action="{edit}"' in refused.text and _message("zh-TW", "refusal.duplicate.mobile") in refused.text
    )
    # A bad field is the input model's refusal, in words (never the value typed inside the message).
    bad = console.post_form(edit, {"mobile": "0912"}, page=edit)
    assert bad.status_code == 400 and f'action="{edit}"' in bad.text
    assert re.search(r'class="notice"[^>]*>[^<]*0912', bad.text) is None


def _issued_pass(console, page: str) -> str:
    console.post_form(
        f"{page}/employees",
        {"name": "陳小明", "mobile": "0912345675", "national_id": "A123456789"},
        page=page,
    )
    employee_id = re.search(r'name="employee_ids" value="(\d+)"', console.get(page).text).group(1)
    assert console.post_form(f"{page}/passes", {"employee_ids": [employee_id]}, page=page).status_code == 303
    return re.search(r'action="/console/passes/([0-9a-f]{32})/revoke"', console.get(page).text).group(1)


def test_a_revoke_without_a_reason_is_refused_by_rest_the_console_and_the_service_alike(
    hub, client, sms, db, keys_dir
):
    from fastapi.testclient import TestClient

    rest_token, enterprise = hub.register_enterprise()  # the enterprise admin's API token
    org_id = enterprise["id"]
    browser = TestClient(client.app)
    browser.__enter__()
    console = Console(browser)
    assert console.sms_login("0933000001", lambda m: sms.code("+886933000001")).status_code == 303
    page = f"/console/enterprises/{org_id}"
    pass_id = _issued_pass(console, page)
    zh = _message("zh-TW", "passes.need_reason")

    # The console: a blank reason is refused before asking, on the page the revoke form is on.
    action = f"/console/passes/{pass_id}/revoke"
    refused = console.post_form(action, {"reason": "   "}, page=page)
    assert refused.status_code == 400 and zh in refused.text and 'id="confirm"' not in refused.text
    assert f'action="{action}"' in refused.text  # the enterprise page again, with its revoke form

    # REST: a blank reason is the service's refusal in the same words; none at all is the schema's.
    blank = client.post(f"/api/v1/passes/{pass_id}/revoke", json={"reason": " "}, headers=bearer(rest_token))
    assert blank.status_code == 400
    assert blank.json()["error"] == "reason_required" and blank.json()["message"] == zh
    assert (
        client.post(f"/api/v1/passes/{pass_id}/revoke", json={}, headers=bearer(rest_token)).status_code
        == 422
    )

    # Any other front end (LINE's handlers) calls the same service: refused there too.
    admin = db.scalars(select(User).where(User.org_id == org_id)).first()
    with pytest.raises(domain.Invalid) as raised:
        passes.revoke_pass(db, Scope.of(admin), pass_id=pass_id, reason=None)
    db.rollback()
    assert raised.value.reason == "reason_required" and raised.value.field == "reason"
    assert _count(db, Pass, Pass.revoked_at.is_not(None)) == 0
    assert _count(db, AuditEvent, AuditEvent.action == "pass.revoked") == 0

    # With a reason: asked first, then done once.
    asked = console.post_form(action, {"reason": "離職"}, page=page)
    assert asked.status_code == 200 and 'id="confirm"' in asked.text
    done = console.send(action, form_of(asked.text, action))
    assert done.status_code == 303
    assert _count(db, Pass, Pass.revoked_at.is_not(None)) == 1


def test_a_refused_query_comes_back_with_its_values_and_the_field_marked(super_console):  # noqa: F811
    query = "kind=passes&since=2026-03-02T00:00&until=2026-03-01T00:00&enterprise=艾斯"
    refused = super_console.get(f"/console/queries?{query}")
    assert refused.status_code == 400
    assert _message("zh-TW", "queries.reversed_range") in refused.text
    assert 'value="艾斯"' in refused.text and 'value="2026-03-02T00:00"' in refused.text
    since = re.search(r'<input[^>]*name="since"[^>]*>', refused.text).group(0)
    assert 'aria-invalid="true"' in since
    assert 'id="register"' not in refused.text
