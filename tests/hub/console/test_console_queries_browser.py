"""The query form in Chromium through htmx: a 統一編號 typed into the enterprise field finds that
enterprise's passes, a reversed range and a bad check digit are said in words with the field marked,
and what was typed stays in the form."""

from __future__ import annotations

from typing import Any

from tests.hub.console.test_console_browser import (  # noqa: F401  (fixtures)
    _shot,
    _super_login,
    browser_type_launch_args,
    live_hub,
    watched,
)


def _search(page: Any) -> None:
    with page.expect_response(lambda r: "/console/queries?" in r.url and r.request.headers.get("hx-request")):
        page.click("main form button[type=submit]")


def test_queries_by_what_people_know_in_the_browser(page, live_hub, watched):  # noqa: F811
    _super_login(page, live_hub)
    page.goto(f"{live_hub.url}/console/queries")
    page.select_option("select[name=kind]", "passes")
    page.fill("input[name=enterprise]", "04595257")
    _search(page)
    page.wait_for_selector("#query-none")
    assert "查無符合「04595257」的企業" in page.inner_text("#results")

    page.fill("input[name=enterprise]", "04595258")
    _search(page)
    page.wait_for_selector("#query-error")
    assert "統一編號不正確" in page.inner_text("#query-error")
    assert page.input_value("input[name=enterprise]") == "04595258"  # what was typed stays

    page.fill("input[name=enterprise]", "")
    page.fill("input[name=since]", "2026-03-02T08:00")
    page.fill("input[name=until]", "2026-03-01T08:00")
    _search(page)
    page.wait_for_selector("#query-error")
    said = page.inner_text("#query-error")
    _shot(page, "13-query-reversed-range")
    assert "起始時間晚於結束時間" in said and not said.endswith("：")
    assert page.input_value("input[name=since]") == "2026-03-02T08:00"
