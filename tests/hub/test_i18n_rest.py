"""REST refusals keep their machine-readable `error` and add `message`: a sentence in the language of
Accept-Language (zh-TW when none or another is asked), never a code, a raw field name or `loc: msg`."""

from __future__ import annotations

import re

import pytest

from tests.hub.hubkit import bearer

EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-TW,zh;q=0.9"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
ALLOWED = re.compile(r"LINE|QR|SMS")


def _zh_only(text: str) -> bool:
    return not LATIN_WORD.search(ALLOWED.sub("", text))


@pytest.mark.parametrize("headers", [{}, ZH, {"Accept-Language": "fr-FR"}])
def test_refusals_answer_in_zh_tw_by_default(hub, client, headers):
    token = hub.super_admin_token()
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-the-password1", "new_password": "Another-pass-1"},
        headers={**bearer(token), **headers},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "bad_credentials" and wrong.json()["field"] == "current_password"
    assert wrong.json()["message"] == "目前密碼不正確。"

    invalid = client.post("/api/v1/auth/login", json={"mobile": "0912345678"}, headers=headers)
    body = invalid.json()
    assert invalid.status_code == 422 and body["error"] == "invalid_request"
    assert body["message"] == "密碼：必填" and _zh_only(body["message"])
    assert [e["message"] for e in body["detail"]] == ["密碼：必填"]
    assert body["detail"][0]["type"] == "missing"  # the machine-readable part stays

    missing = client.get("/api/v1/no-such-route", headers=headers)
    assert missing.status_code == 404 and _zh_only(missing.json()["message"])


def test_refusals_answer_in_english_when_asked(hub, client):
    token = hub.super_admin_token()
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-the-password1", "new_password": "Another-pass-1"},
        headers={**bearer(token), **EN},
    )
    assert wrong.json()["error"] == "bad_credentials"
    assert wrong.json()["message"] == "The current password is wrong."
    short = client.post(
        "/api/v1/auth/password",
        json={"current_password": "N3w-password!", "new_password": "short1"},
        headers={**bearer(token), **EN},
    )
    assert short.json()["error"] == "weak_password"
    assert re.fullmatch(r"The new password needs at least \d+ characters\.", short.json()["message"])

    invalid = client.post("/api/v1/auth/login", json={"mobile": "0912345678"}, headers=EN)
    assert invalid.json()["message"] == "Password: required"


def test_a_venue_name_too_long_is_said_in_the_language_asked(hub, client):
    token, org = hub.register_enterprise()

    def apply(headers):
        return client.post(
            f"/api/v1/organisations/{org['id']}/venues",
            json={"names": ["總部", "一二三四五六七八九"], "address": "台北市大安區敦化南路二段76號5樓"},
            headers={**bearer(token), **headers},
        )

    zh, en = apply({}).json(), apply(EN).json()
    assert zh["error"] == en["error"] == "venue_name_too_long"
    assert zh["message"] == "實聯碼名稱最多 8 個字：「一二三四五六七八九」有 9 個字，請縮短後再送出。"
    assert (
        en["message"] == "A venue code name has at most 8 characters: “一二三四五六七八九” has 9; shorten it."
    )
