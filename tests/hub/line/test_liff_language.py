# ruff: noqa: F811  (the `story` fixture is imported from test_liff_pages and requested by name)
"""The LIFF pages speak one language at a time (docs/i18n.md, "LIFF pages"): zh-TW unless the phone's
browser prefers English (`Accept-Language`); the page's script, the answers of its endpoints and their
refusals follow the page. Walked from the app's routes, so a new page cannot be left out."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, story  # noqa: F401  (fixture)
from tests.hub.test_i18n_catalogue import ALLOWED_LATIN, CJK

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}
CHINESE = {"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"}
_TAG = re.compile(r"<script.*?</script>|<[^>]+>", re.S)
# What the English catalogue deliberately keeps in Chinese: the identifier's own name beside its English
# (field.ubn), and the zh-TW rich menu's labels a person is told to tap (the menus are drawn in zh-TW).
_KEPT_IN_CHINESE = re.compile(r"\(統一編號\)|「[^」]{1,12}」")


def _liff_pages(app: Any) -> list[str]:
    """Every LIFF page's path (a channel and a code filled in)."""
    paths = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", "")
        if "GET" not in (getattr(route, "methods", None) or ()) or not path.startswith(("/liff/", "/v/")):
            continue
        if "static" in path or path.endswith("sdk.js"):
            continue
        paths.append(re.sub(r"\{[^}]+\}", "1", path.replace("{channel}", "police")))
    return sorted(paths)


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="cfg">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_every_liff_page_is_in_one_language_zh_tw_unless_english_is_preferred(app: Any, keys_dir: Any):
    client = TestClient(app)
    pages = _liff_pages(app)
    assert {"/liff/police/scan", "/liff/footprint", "/v/1", "/liff/police/data-reads"} <= set(pages)
    checked = []
    for path in pages:
        english = client.get(path, headers=ENGLISH)
        if not english.headers.get("content-type", "").startswith("text/html"):
            continue  # a download (the whitelists' spreadsheet templates), not a page
        checked.append(path)
        assert '<html lang="en">' in english.text, path
        shown = _KEPT_IN_CHINESE.sub("", english.text)
        assert not CJK.search(shown), (path, CJK.findall(shown)[:5])
        assert _config(english.text)["lang"] == "en"
        assert _config(english.text)["words"]["liff.js.code_sent"] == "Code sent"
        for headers in (CHINESE, {}, {"Accept-Language": "fr-FR, en;q=0.1, zh;q=0.5"}):
            chinese = client.get(path, headers=headers)
            assert '<html lang="zh-TW">' in chinese.text, (path, headers)
            shown = re.sub(ALLOWED_LATIN, "", _TAG.sub(" ", chinese.text))
            assert CJK.search(shown) and not re.search(r"[A-Za-z]{3,}", shown), (path, shown)
            assert _config(chinese.text)["words"]["liff.js.code_sent"] == "驗證碼已傳送"
    assert len(checked) >= 7, checked


def test_the_pages_answers_and_refusals_follow_the_page_language(
    client: TestClient, standin: Any, sms: Any, story: dict[str, Any]
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")

    def verdict(user_id: str, headers: dict[str, str]) -> Any:
        body = {"id_token": standin.issue_id_token(user_id), "text": story["pass"]["text"]}
        return client.post("/liff/api/police/verdict", json=body, headers=headers)

    english = verdict(officer.user_id, ENGLISH).json()
    assert (english["verdict"], english["reason"]) == ("Approved", "The pass is valid")
    assert english["expires"].endswith("(Taipei time)") and "national ID card" in english["reminder"]
    assert english["holder"] == "王*明"  # a name is data, shown as written
    chinese = verdict(officer.user_id, CHINESE).json()
    assert (chinese["verdict"], chinese["reason"]) == ("核准通行", "通行碼有效")
    assert chinese["expires"].endswith("（台北時間）")

    # a person who is no duty officer (an unbound stranger), refused in the page's language
    stranger = "U" + "7" * 32
    refused = verdict(stranger, ENGLISH)
    assert refused.status_code == 403 and refused.json()["message"].startswith("This page is only for")
    assert not CJK.search(refused.json()["message"])
    assert "僅限已綁定的執勤警員" in verdict(stranger, CHINESE).json()["message"]
    # a token LINE does not vouch for, and a code of no venue
    forged = client.post("/liff/api/footprint", json={"id_token": "eyJforged-token"}, headers=ENGLISH)
    assert forged.status_code == 401 and forged.json()["message"].startswith("Your LINE login has expired")
    nowhere = client.post(
        "/liff/api/checkin",
        json={"id_token": standin.issue_id_token(officer.user_id), "venue_code": "NOSUCHCODE"},
        headers=ENGLISH,
    )
    assert nowhere.status_code == 404 and nowhere.json()["message"] == "No such venue code."
