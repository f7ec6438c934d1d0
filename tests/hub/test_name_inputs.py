"""What a name may hold, one rule for every way in: a venue code name over 8 characters and a duplicate
one are refused in words naming the name; emoji and other symbols (which print as empty boxes on passes
and posters) are refused in every name, typed or imported; rare CJK characters are names like any other."""

from __future__ import annotations

import pytest

from hub.core.fields import NAME_SYMBOLS_REFUSED
from tests.hub.hubkit import bearer, upload, xlsx


def _apply(client, token, org_id, names):
    return client.post(
        f"/api/v1/organisations/{org_id}/venues",
        json={"names": names, "address": "台北市大安區敦化南路二段76號5樓"},
        headers=bearer(token),
    )


def test_venue_name_length_and_duplicates_are_said(hub, client):
    token, org = hub.register_enterprise()
    too_long = _apply(client, token, org["id"], ["總部", "一二三四五六七八九"])
    assert too_long.status_code == 422 and too_long.json()["error"] == "venue_name_too_long"
    assert (
        too_long.json()["detail"]
        == "實聯碼名稱最多 8 個字：「一二三四五六七八九」有 9 個字，請縮短後再送出。"
    )
    first = _apply(client, token, org["id"], ["一二三四五六七八"])
    assert first.status_code == 201  # 8 is fine
    # the same application again is a double tap: the codes the first made, not a refusal nor new ones
    tapped = _apply(client, token, org["id"], ["一二三四五六七八"])
    assert tapped.status_code == 201 and tapped.json() == first.json()
    again = _apply(client, token, org["id"], ["分店", "一二三四五六七八"])
    assert again.status_code == 409 and again.json()["error"] == "duplicate_venue_name"
    assert "「一二三四五六七八」重複" in again.json()["detail"] and "分店" not in again.json()["detail"]
    twice = _apply(client, token, org["id"], ["門市", "門市"])
    assert twice.status_code == 409 and "「門市」重複" in twice.json()["detail"]
    listed = client.get(f"/api/v1/organisations/{org['id']}/venues", headers=bearer(token)).json()
    assert [v["name"] for v in listed] == ["一二三四五六七八"]  # nothing of the refused applications


@pytest.mark.parametrize("name", ["陳大明😀", "王👨‍👩‍👧", "林\u200b美玲", "李★", "張\ue000"])
def test_symbols_in_a_person_name_are_refused_in_words(hub, client, name):
    token, org = hub.register_enterprise()
    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": name, "mobile": "0912345678", "national_id": "A123456789"},
        headers=bearer(token),
    )
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["loc"][-1] == "name" and NAME_SYMBOLS_REFUSED in problem["msg"]


def test_rare_cjk_characters_are_names(hub, client):
    token, org = hub.register_enterprise()
    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "王𠀋堃", "mobile": "0912345678", "national_id": "A123456789"},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text


def test_symbols_in_other_names_and_imports_are_refused(hub, client):
    code = hub.request_code("+886933000009", "enterprise_registration")
    r = client.post(
        "/api/v1/enterprises/register",
        json={
            "company_name": "艾斯🚗移動",
            "ubn": "04595257",
            "admin_name": "曾可愛",
            "admin_mobile": "+886933000009",
            "code": code,
        },
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "company_name"
    token, org = hub.register_enterprise()
    assert _apply(client, token, org["id"], ["總部🏢"]).status_code == 422
    sheet = xlsx([["姓名", "手機", "身分證"], ["陳😀明", "0912345678", "A123456789"]])
    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/import", files=upload(sheet), headers=bearer(token)
    )
    assert r.status_code == 422
    (error,) = r.json()["detail"]["errors"]
    assert error["row"] == 2 and error["field"] == "name" and NAME_SYMBOLS_REFUSED in error["error"]
    assert "😀" not in error["error"] and "陳😀明" not in r.text  # the name itself is shown masked
