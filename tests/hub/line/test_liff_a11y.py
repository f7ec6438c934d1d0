"""Every LIFF page and the check-in page (/v/{code}) at phone size pass axe-core's WCAG 2.x AA checks (no
serious or critical violation), fit the screen, and the scan verdict is told by words and a mark, not by
colour alone. Screenshots go to build/test-artifacts/line-a11y-*.png."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from checkpass_testkit.line_standin import StandIn
from tests.hub.a11ykit import layout_problems, serious_violations
from tests.hub.hubkit import SmsOutbox
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser, story  # noqa: F401 (fixtures)

POLICE, ENTERPRISE = "2000000001-policeAB", "2000000001-enterpri"


def _check(page: Any, name: str, failures: list[str]) -> None:
    _shot(page, f"a11y-{name}")
    failures += [f"{name}: {problem}" for problem in layout_problems(page)]
    failures += [f"{name}: {violation}" for violation in serious_violations(page)]


def test_every_liff_page_passes_axe_at_phone_size(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    story: dict[str, Any],  # noqa: F811
) -> None:
    failures: list[str] = []
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    police_liff = {"liffId": POLICE, "idToken": standin.issue_id_token(officer.user_id, "陳警員")}
    enterprise_liff = {"liffId": ENTERPRISE, "idToken": standin.issue_id_token(employee.user_id, "王大明")}
    for path, liff, name in (
        ("/liff/police/scan", police_liff, "police-scan"),
        ("/liff/police/register", police_liff, "police-register"),
        ("/liff/police/roster", police_liff, "police-roster"),
        ("/liff/police/venues", police_liff, "police-venues"),
        ("/liff/enterprise/register", enterprise_liff, "enterprise-register"),
        ("/liff/enterprise/employees", enterprise_liff, "enterprise-employees"),
        ("/liff/enterprise/venues", enterprise_liff, "enterprise-venues"),
        ("/liff/footprint", enterprise_liff, "footprint"),
        ("/liff/enterprise/pass", enterprise_liff, "enterprise-pass"),
        (f"/v/{story['venue']['code']}", enterprise_liff, "venue-in-line"),
        (f"/v/{story['venue']['code']}", None, "venue-browser"),
        ("/v/NOSUCHCODE", None, "venue-unknown"),
    ):
        page = _phone(browser, liff)
        page.goto(served_hub + path)
        page.wait_for_load_state("networkidle")
        _check(page, name, failures)
        page.context.close()
    assert failures == [], "\n".join(failures)


def test_the_scan_verdict_is_not_told_by_colour_alone(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    story: dict[str, Any],  # noqa: F811
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    page = _phone(
        browser,
        {
            "liffId": POLICE,
            "idToken": standin.issue_id_token(officer.user_id, "陳警員"),
            "scanValue": story["pass"]["text"],
        },
    )
    page.goto(served_hub + "/liff/police/scan")
    failures: list[str] = []
    marks = {}
    for value, name in ((story["pass"]["text"], "approved"), ("https://example.com/not-a-pass", "refused")):
        page.evaluate("value => { window.__scanValue = value; }", value)
        button = page.get_by_role("button", name="繼續掃描")
        (button if button.is_visible() else page.get_by_role("button", name="掃描通行碼")).click()
        page.locator("#verdict-word.ok" if name == "approved" else "#verdict-word.no").wait_for()
        marks[name] = page.evaluate(
            "getComputedStyle(document.getElementById('verdict-word'), '::before').content"
        )
        _check(page, f"police-scan-{name}", failures)
    assert failures == [], "\n".join(failures)
    # A mark in the verdict's shape, besides its words and colour: ✓ approved, ✗ refused.
    assert "✓" in marks["approved"] and "✗" in marks["refused"], marks
    page.context.close()
