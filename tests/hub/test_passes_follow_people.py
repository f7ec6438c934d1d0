"""Passes follow the people (issue 7, Build 4): one valid pass of a kind per person, none for someone
taken off the whitelist, and the organisation named by its 統一編號 (docs/domain.md)."""

from __future__ import annotations

import pytest

from crypto.passes import decode_pass
from tests.hub.hubkit import bearer

API = "/api/v1"
EMPLOYEE = {"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"}


@pytest.fixture
def enterprise(hub, keys_dir):
    return hub.register_enterprise()


def _employee(client, token, org_id, **overrides):
    r = client.post(
        f"{API}/enterprises/{org_id}/employees", json={**EMPLOYEE, **overrides}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    return r.json()


def _issue(client, token, org_id, employee_id, **body):
    r = client.post(
        f"{API}/enterprises/{org_id}/employees/{employee_id}/passes", json=body, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    return r.json()


def _state(client, token, pass_id):
    return client.get(f"{API}/passes/{pass_id}", headers=bearer(token)).json()


def test_the_pass_names_the_enterprise_by_its_ubn(client, enterprise):
    token, org = enterprise
    issued = _issue(client, token, org["id"], _employee(client, token, org["id"])["id"])
    _sign1, claims = decode_pass(issued["text"])
    assert claims.org_id == org["ubn"] == "28010606"
    assert claims.org_id != str(org["id"])


def test_reissuing_supersedes_the_previous_pass_of_the_same_kind(client, enterprise):
    token, org = enterprise
    employee = _employee(client, token, org["id"])
    first = _issue(client, token, org["id"], employee["id"])
    second = _issue(client, token, org["id"], employee["id"])
    old = _state(client, token, first["pass_id"])
    assert old["revoked"] is True and old["revoke_reason"] == f"superseded by {second['pass_id']}"
    assert _state(client, token, second["pass_id"])["revoked"] is False
    # Another kind is another pass; asking to keep both keeps both.
    vehicle = _issue(client, token, org["id"], employee["id"], kind="vehicle")
    kept = _issue(client, token, org["id"], employee["id"], keep_previous=True)
    assert not any(_state(client, token, p["pass_id"])["revoked"] for p in (second, vehicle, kept))
    # The status list says so too: a checkpoint refuses the superseded pass.
    active = client.get(
        f"{API}/enterprises/{org['id']}/passes", params={"active_only": True}, headers=bearer(token)
    )
    assert {p["pass_id"] for p in active.json()} == {second["pass_id"], vehicle["pass_id"], kept["pass_id"]}


def test_taking_an_employee_off_the_whitelist_revokes_their_passes(hub, client, enterprise):
    token, org = enterprise
    employee = _employee(client, token, org["id"])
    other = _employee(client, token, org["id"], name="王明", mobile="0922333444", national_id="B120863158")
    theirs = _issue(client, token, org["id"], employee["id"])
    kept = _issue(client, token, org["id"], other["id"])
    session = hub.sms_login("+886912345678")
    r = client.delete(f"{API}/enterprises/{org['id']}/employees/{employee['id']}", headers=bearer(token))
    assert r.status_code == 204
    gone = _state(client, token, theirs["pass_id"])
    assert gone["revoked"] is True and gone["employee_id"] is None  # still in the register
    assert _state(client, token, kept["pass_id"])["revoked"] is False
    assert client.get(f"{API}/me/passes", headers=bearer(session)).status_code == 401


def test_batch_issuing_hands_the_issuer_the_pass_texts(client, enterprise):
    token, org = enterprise
    ids = [_employee(client, token, org["id"])["id"]]
    ids.append(
        _employee(client, token, org["id"], name="王明", mobile="0922333444", national_id="B120863158")["id"]
    )
    r = client.post(
        f"{API}/enterprises/{org['id']}/passes", json={"employee_ids": ids}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    texts = [p["text"] for p in r.json()]
    assert all(t and t.startswith("TP1:") for t in texts)
    assert [decode_pass(t)[1].pass_id.hex() for t in texts] == [p["pass_id"] for p in r.json()]
