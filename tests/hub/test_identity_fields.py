"""What a person typing IDs and names into the hub is told: which national-ID check failed (never the ID
itself), and one name limit for the API, the .xlsx import and its template."""

from __future__ import annotations

import io

import openpyxl

from crypto.identity import MAX_PERSON_NAME_CHARS
from tests.hub.hubkit import bearer, upload, xlsx


def _employees_url(org: dict) -> str:
    return f"/api/v1/enterprises/{org['id']}/employees"


def test_a_refused_national_id_names_the_failed_check(hub) -> None:
    token, org = hub.register_enterprise()
    for national_id, check in (
        ("A123456788", "checksum failed"),
        ("A323456789", "format check failed"),
        ("A1234567", "10 characters"),  # the length check (pydantic says it first)
    ):
        body = {"name": "陳大明", "mobile": "0912345678", "national_id": national_id}
        r = hub.client.post(_employees_url(org), json=body, headers=bearer(token))
        assert r.status_code == 422, r.text
        (error,) = [e for e in r.json()["detail"] if e["loc"][-1] == "national_id"]
        assert check in error["msg"], error
        assert national_id not in r.text


def test_names_have_one_limit_in_api_import_and_template(hub) -> None:
    token, org = hub.register_enterprise()
    longest, too_long = "陳" * MAX_PERSON_NAME_CHARS, "陳" * (MAX_PERSON_NAME_CHARS + 1)
    ok = {"name": longest, "mobile": "0912345678", "national_id": "A123456789"}
    assert hub.client.post(_employees_url(org), json=ok, headers=bearer(token)).status_code == 201
    refused = {**ok, "name": too_long, "mobile": "0912345679", "national_id": "B120863158"}
    assert hub.client.post(_employees_url(org), json=refused, headers=bearer(token)).status_code == 422

    template = hub.client.get(f"{_employees_url(org)}/import-template.xlsx", headers=bearer(token))
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    texts = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert f"最多 {MAX_PERSON_NAME_CHARS} 字" in texts

    rows = [["姓名", "手機", "身分證"], [longest, "0922333444", "F131104093"]]
    r = hub.client.post(f"{_employees_url(org)}/import", files=upload(xlsx(rows)), headers=bearer(token))
    assert r.status_code in (200, 201), r.text
