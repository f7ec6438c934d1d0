"""Console login, forced password change, tokens, SMS-code login (the throttle: test_login_throttle.py)."""

from __future__ import annotations

from tests.hub.hubkit import bearer


def test_super_admin_initial_password_forces_change(hub, client, sms):
    from hub.services.bootstrap import create_super_admin

    create_super_admin(hub.db, "+886911000009", "總管理者")
    hub.db.commit()
    password = sms.initial_password("+886911000009")
    first = hub.password_login("0911-000-009", password)  # local format is normalised to E.164
    assert first["must_change_password"] is True
    assert first["user"]["mobile_masked"] == "09***0***9"
    token = first["token"]
    # Nothing but changing the password works yet.
    refused = client.get("/api/v1/admins", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["error"] == "password_change_required"
    weak = client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": "short"},
        headers=bearer(token),
    )
    assert weak.status_code == 400 and weak.json()["error"] == "weak_password"
    ok = client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": "a-Much-better-one-42"},
        headers=bearer(token),
    )
    assert ok.status_code == 204
    assert client.get("/api/v1/admins", headers=bearer(token)).status_code == 200
    # The old password no longer works, the new one does.
    old = client.post("/api/v1/auth/login", json={"mobile": "+886911000009", "password": password})
    assert old.status_code == 401
    assert hub.password_login("+886911000009", "a-Much-better-one-42")["must_change_password"] is False


def test_unknown_mobile_and_bad_input(client):
    r = client.post("/api/v1/auth/login", json={"mobile": "+886911999999", "password": "x"})
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    r = client.post("/api/v1/auth/login", json={"mobile": "12ab", "password": "x"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert "12ab" not in r.text  # rejected input is not echoed back
    r = client.post("/api/v1/auth/login", json={"mobile": 912345678, "password": "x"})
    assert r.status_code == 422
    r = client.post("/api/v1/auth/login", json={"mobile": "+886911000001", "password": "x" * 500})
    assert r.status_code == 422


def test_logout_and_bad_tokens(hub, client):
    token = hub.super_admin_token()
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer("nonsense")).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_oversize_body_is_refused_before_it_is_read(client, settings):
    big = b'{"mobile": "' + b"9" * settings.max_upload_bytes + b'"}'
    r = client.post("/api/v1/auth/login", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = client.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_reset_password_sends_a_new_initial_password(hub, client, sms):
    sup = hub.super_admin_token()
    r = client.post(
        "/api/v1/admins", json={"mobile": "0911000201", "name": "甲", "permissions": []}, headers=bearer(sup)
    )
    assert r.status_code == 201
    admin_id = r.json()["id"]
    first = sms.initial_password("+886911000201")
    assert client.post(f"/api/v1/admins/{admin_id}/reset-password", headers=bearer(sup)).status_code == 204
    second = sms.initial_password("+886911000201")
    assert second != first
    assert (
        client.post("/api/v1/auth/login", json={"mobile": "+886911000201", "password": first}).status_code
        == 401
    )
    assert hub.password_login("+886911000201", second)["must_change_password"] is True
    dup = client.post(
        "/api/v1/admins", json={"mobile": "0911000201", "name": "乙", "permissions": []}, headers=bearer(sup)
    )
    assert dup.status_code == 409
    bad = client.post(
        "/api/v1/admins",
        json={"mobile": "0911000202", "name": "乙", "permissions": ["root"]},
        headers=bearer(sup),
    )
    assert bad.status_code == 422


def test_one_mobile_with_two_accounts_chooses(hub, client, sms):
    token, org = hub.register_enterprise(mobile="+886933000001")
    # The enterprise admin also puts themselves on the pass whitelist.
    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "曾可愛", "mobile": "0933000001", "national_id": "A123456789"},
        headers=bearer(token),
    )
    assert r.status_code == 201
    code = hub.request_code("+886933000001", "login")
    r = client.post("/api/v1/auth/sms-login", json={"mobile": "0933000001", "code": code})
    assert r.status_code == 409 and r.json()["error"] == "choose_account"
    assert {a["role"] for a in r.json()["detail"]["accounts"]} == {"enterprise_admin", "employee"}
    # The same code still works once the account is named.
    r = client.post("/api/v1/auth/sms-login", json={"mobile": "0933000001", "code": code, "role": "employee"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "employee"
    r = client.post("/api/v1/auth/sms-login", json={"mobile": "0933000001", "code": code, "role": "employee"})
    assert r.status_code == 400 and r.json()["error"] == "code_used"
    # Nobody gets in with someone else's code or without an account.
    code = hub.request_code("+886933000001", "login")
    r = client.post("/api/v1/auth/sms-login", json={"mobile": "0912000999", "code": code})
    assert r.status_code == 400


def test_changing_the_password_ends_the_other_sessions(hub, client):
    hub.super_admin_token("+886911000003")
    laptop = hub.password_login("+886911000003", "N3w-password!")["token"]
    stolen = hub.password_login("+886911000003", "N3w-password!")["token"]
    assert client.get("/api/v1/auth/me", headers=bearer(stolen)).status_code == 200
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": "N3w-password!", "new_password": "An0ther-good-one"},
        headers=bearer(laptop),
    )
    assert changed.status_code == 204
    r = client.get("/api/v1/auth/me", headers=bearer(stolen))
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert client.get("/api/v1/auth/me", headers=bearer(laptop)).status_code == 200  # this one stays


def test_choose_account_names_each_organisation(hub, client):
    token, org = hub.register_enterprise(mobile="+886933000001", name="艾斯移動股份有限公司")
    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "曾可愛", "mobile": "0933000001", "national_id": "A123456789"},
        headers=bearer(token),
    )
    assert r.status_code == 201
    code = hub.request_code("+886933000001", "login")
    r = client.post("/api/v1/auth/sms-login", json={"mobile": "0933000001", "code": code})
    assert r.status_code == 409 and r.json()["error"] == "choose_account"
    accounts = r.json()["detail"]["accounts"]
    assert len(accounts) == 2
    for account in accounts:
        assert account["org_id"] == org["id"]
        assert account["org_name"] == "艾斯移動股份有限公司" and account["org_kind"] == "enterprise"
        assert account["name_masked"] == "曾*愛"
    assert "曾可愛" not in r.text  # the person's name only masked


def test_uploads_check_the_token_before_the_file(hub, client):
    """Without a valid token an upload is 401 whatever the file: the hub says nothing about what it
    accepts to someone it does not know."""
    sup = hub.super_admin_token()
    station = hub.create_station(sup)
    token, org = hub.register_enterprise()
    paths = (
        f"/api/v1/stations/{station['id']}/officers/import",
        f"/api/v1/enterprises/{org['id']}/employees/import",
        "/api/v1/station-admins/import",
    )
    not_a_sheet = {"file": ("x.txt", b"hello", "text/plain")}
    for path in paths:
        for headers in ({}, bearer("not-a-token")):
            r = client.post(path, files=not_a_sheet, headers=headers)
            assert r.status_code == 401, (path, r.status_code)
            assert r.headers["WWW-Authenticate"] == "Bearer"
    # With a token, the file type is checked (415) as before.
    r = client.post(paths[1], files=not_a_sheet, headers=bearer(token))
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
