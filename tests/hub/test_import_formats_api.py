"""An enterprise's employee import takes the files offices save (.ods, CSV in UTF-8 or Big5) through the
API as it takes .xlsx, and refuses an old .xls with what to do, in zh-TW, for every front end."""

from __future__ import annotations

import pytest

from hub.documents.spreadsheets import OLD_XLS
from hub.line.liff_caller import refusal_of
from hub.services.errors import Invalid
from tests.hub.documents.test_doc_import_formats import ods
from tests.hub.hubkit import bearer

ROWS = [
    ("姓名", "手機號碼", "身分證字號"),
    ("陳大明", "0912345678", "A123456789"),
    ("林美玲", "0923456789", "B220386041"),
]
CSV = "\r\n".join(",".join(row) for row in ROWS) + "\r\n"


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("名單.ods", ods(ROWS), "application/vnd.oasis.opendocument.spreadsheet"),
        ("名單.csv", b"\xef\xbb\xbf" + CSV.encode("utf-8"), "text/csv"),
        ("名單.csv", CSV.encode("cp950"), "text/csv"),
        ("名單", CSV.encode("cp950"), "application/octet-stream"),  # the kind is read, not the name
    ],
)
def test_employee_import_of_each_kind(hub, client, name, data, media_type):
    token, org = hub.register_enterprise()
    url = f"/api/v1/enterprises/{org['id']}/employees"
    r = client.post(f"{url}/import", files={"file": (name, data, media_type)}, headers=bearer(token))
    assert r.status_code == 201 and r.json() == {"imported": 2}, r.text
    listed = client.get(url, headers=bearer(token)).json()
    assert sorted(e["name_masked"] for e in listed) == ["林*玲", "陳*明"]


def test_an_old_xls_is_refused_saying_what_to_do(hub, client):
    token, org = hub.register_enterprise()
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + bytes(488)
    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/import",
        files={"file": ("名單.xls", xls, "application/vnd.ms-excel")},
        headers=bearer(token),
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_spreadsheet"
    assert r.json()["detail"] == OLD_XLS
    # The LIFF page shows that sentence, not a general "cannot read the file".
    assert refusal_of(Invalid(OLD_XLS, reason="bad_spreadsheet")).detail["message"] == OLD_XLS
