"""Enterprise registration (統一編號 + SMS code) and the employee whitelist batch import."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.models.organisations import Organisation
from tests.hub.hubkit import bearer, upload, xlsx

FORM = {
    "company_name": "艾斯移動股份有限公司",
    "ubn": "28010606",
    "admin_name": "曾可愛",
    "admin_mobile": "0933000001",
}


def _count_orgs(db):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Organisation))


def test_registration_needs_valid_ubn_and_the_right_code(hub, client, sms, db):
    code = hub.request_code("+886933000001", "enterprise_registration")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for body, status, reason in [
        ({**FORM, "ubn": "28010607", "code": code}, 422, "invalid_request"),  # checksum
        ({**FORM, "ubn": "2801060", "code": code}, 422, "invalid_request"),
        ({**FORM, "ubn": 28010606, "code": code}, 422, "invalid_request"),  # wrong type
        ({**FORM, "company_name": "公" * 101, "code": code}, 422, "invalid_request"),
        ({**FORM, "admin_mobile": "+1 555", "code": code}, 422, "invalid_request"),
        ({**FORM, "code": "12ab56"}, 400, "code_malformed"),
        ({**FORM, "code": wrong}, 400, "code_wrong"),
        ({**FORM, "admin_mobile": "0933000002", "code": code}, 400, "code_invalid"),  # code is per mobile
    ]:
        r = client.post("/api/v1/enterprises/register", json=body)
        assert (r.status_code, r.json()["error"]) == (status, reason), (body, r.text)
    assert _count_orgs(db) == 0
    r = client.post("/api/v1/enterprises/register", json={**FORM, "code": code})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["enterprise"]["ubn"] == "28010606" and body["user"]["role"] == "enterprise_admin"
    assert client.get("/api/v1/auth/me", headers=bearer(body["token"])).status_code == 200
    # The same code does not work twice; the same 統一編號 cannot register twice.
    r = client.post("/api/v1/enterprises/register", json={**FORM, "code": code})
    assert r.status_code == 400 and r.json()["error"] == "code_used"
    code2 = hub.request_code("+886933000009", "enterprise_registration")
    r = client.post(
        "/api/v1/enterprises/register", json={**FORM, "admin_mobile": "0933000009", "code": code2}
    )
    # A taken 統一編號 is held for a hub admin's review (tests/hub/test_scope_holes.py), not registered.
    assert r.status_code == 202 and r.json()["state"] == "pending"
    assert _count_orgs(db) == 1
    # The admin can log in later with an SMS code.
    assert hub.sms_login("+886933000001")


def test_employee_batch_import(hub, client):
    token, org = hub.register_enterprise()
    url = f"/api/v1/enterprises/{org['id']}/employees"
    good = xlsx(
        [
            ["姓名", "手機號碼", "身分證字號"],
            ["陳大明", "0912345678", "A123456789"],
            ["林美玲", "0923456789", "b220386041"],
        ]
    )
    r = client.post(f"{url}/import", files=upload(good), headers=bearer(token))
    assert r.status_code == 201 and r.json() == {"imported": 2}
    listed = client.get(url, headers=bearer(token)).json()
    assert [e["name_masked"] for e in listed] == ["陳*明", "林*玲"]
    bad = xlsx(
        [
            ["name", "mobile", "national_id"],
            ["王五", "0934567890", "F131234569"],
            ["趙六", "0945678901", "A123456789"],
        ]
    )  # national ID already on the whitelist
    r = client.post(f"{url}/import", files=upload(bad), headers=bearer(token))
    assert r.status_code == 422
    assert [(e["row"], e["error"]) for e in r.json()["detail"]["errors"]] == [
        (3, "這個身分證字號已登記過，不能重複新增。")
    ]
    assert len(client.get(url, headers=bearer(token)).json()) == 2
    # Edit and delete one by one.
    first = listed[0]["id"]
    r = client.patch(f"{url}/{first}", json={"name": "陳小明"}, headers=bearer(token))
    assert r.status_code == 200 and r.json()["name_masked"] == "陳*明"
    assert (
        client.patch(f"{url}/{first}", json={"mobile": "0923456789"}, headers=bearer(token)).status_code
        == 409
    )
    assert client.patch(f"{url}/{first}", json={"name": None}, headers=bearer(token)).status_code == 422
    assert client.delete(f"{url}/{first}", headers=bearer(token)).status_code == 204
    assert len(client.get(url, headers=bearer(token)).json()) == 1


def test_import_template_round_trip(hub, client):
    """The template the hub hands out, filled in, is what the importer accepts."""
    import io

    from openpyxl import load_workbook

    token, org = hub.register_enterprise()
    url = f"/api/v1/enterprises/{org['id']}/employees"
    r = client.get(f"{url}/import-template.xlsx", headers=bearer(token))
    assert r.status_code == 200
    workbook = load_workbook(io.BytesIO(r.content))
    sheet = workbook.worksheets[0]
    sheet.append(["陳大明", "0912345678", "A123456789"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    r = client.post(f"{url}/import", files=upload(buffer.getvalue()), headers=bearer(token))
    assert r.status_code == 201 and r.json() == {"imported": 1}
    sup = hub.super_admin_token()
    assert client.get("/api/v1/station-admins/import-template.xlsx", headers=bearer(sup)).status_code == 200
    assert client.get("/api/v1/station-admins/import-template.xlsx", headers=bearer(token)).status_code == 403
