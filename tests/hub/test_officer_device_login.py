"""Officer login on a checkpoint device: whitelist match + SMS code -> an offline credential."""

from __future__ import annotations

import base64

import cbor2
import pytest
from sqlalchemy import select

from crypto.cose import parse_sign1, verify_sign1
from hub.api.deps import get_app_settings
from hub.models.devices import OfficerDeviceLogin
from hub.models.identity import Role
from provisioning.keystore import KeyStore
from tests.hub.test_devices_support import API, auth_headers, enrol_device, make_officer, make_station

MOBILE = "+886912345678"


@pytest.fixture
def station(db):
    return make_station(db, "板橋分局")


@pytest.fixture
def officer_id(db, station):
    return make_officer(db, station, "陳大明", MOBILE)


@pytest.fixture
def device(client, db, keys_dir, station):
    return enrol_device(client, auth_headers(db, Role.STATION_ADMIN, org_id=station))


def _start(client, device_id, name="陳大明", mobile="0912-345-678"):
    return client.post(
        f"{API}/officers/login/start", json={"device_id": device_id, "name": name, "mobile": mobile}
    )


def _verify(client, device_id, code, mobile="0912345678"):
    return client.post(
        f"{API}/officers/login/verify", json={"device_id": device_id, "mobile": mobile, "code": code}
    )


def _credential_claims(body, keys_dir, settings) -> dict:
    """Check the credential as a device would: COSE signature under the issuer key, then the claims."""
    message = parse_sign1(base64.b64decode(body["credential"]))
    issuer = KeyStore(keys_dir, settings.passphrase()).active_issuer()
    assert message.kid == issuer.kid
    assert verify_sign1(message, issuer.public_key)
    return cbor2.loads(message.payload)


def test_whitelisted_officer_gets_a_signed_credential_for_a_shift(
    client, db, sms, device, officer_id, station, keys_dir, settings
):
    started = _start(client, device.device_id, name=" 陳 大明 ")  # spaces as typed on a phone
    assert started.status_code == 200, started.text
    assert started.json() == {"sent": True, "expires_in": settings.otp_ttl_seconds}

    response = _verify(client, device.device_id, sms.code(MOBILE))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["officer_id"] == str(officer_id) and body["station_id"] == str(station)
    assert body["name_masked"] == "陳*明"

    claims = _credential_claims(body, keys_dir, settings)
    assert claims == {
        "typ": "officer",
        "officer_id": str(officer_id),
        "station_id": str(station),
        "name_masked": "陳*明",
        "device_id": device.device_id,
        "nbf": claims["nbf"],
        "exp": body["expires_at"],
    }
    assert claims["exp"] - claims["nbf"] == 12 * 3600  # the default shift
    # The pending match no longer holds the mobile once it is done.
    login = db.scalars(select(OfficerDeviceLogin)).one()
    assert login.mobile is None and login.verified_at is not None


def test_tampered_credential_does_not_verify(client, sms, device, officer_id, keys_dir, settings):
    _start(client, device.device_id)
    body = _verify(client, device.device_id, sms.code(MOBILE)).json()
    message = parse_sign1(base64.b64decode(body["credential"]))
    claims = cbor2.loads(message.payload)
    claims["exp"] += 86400
    protected, unprotected, _payload, signature = cbor2.loads(base64.b64decode(body["credential"])).value
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    issuer = KeyStore(keys_dir, settings.passphrase()).active_issuer()
    assert not verify_sign1(parse_sign1(forged), issuer.public_key)


def test_shift_length_is_configurable(client, app, sms, device, officer_id, keys_dir, settings):
    changed = settings.model_copy(update={"officer_credential_hours": 0.5})
    app.dependency_overrides[get_app_settings] = lambda: changed
    try:
        _start(client, device.device_id)
        body = _verify(client, device.device_id, sms.code(MOBILE)).json()
    finally:
        app.dependency_overrides.clear()
    claims = _credential_claims(body, keys_dir, settings)
    assert claims["exp"] - claims["nbf"] == 1800


@pytest.mark.parametrize(
    ("name", "mobile"),
    [("陳小明", "0912345678"), ("陳大明", "0912999888")],
    ids=["wrong-name", "wrong-mobile"],
)
def test_no_match_no_code_and_the_same_answer(client, sms, device, officer_id, settings, name, mobile):
    """Whoever is not on the roster gets the answer an officer gets, but no SMS: the answer must not
    tell who is on which station's roster."""
    response = _start(client, device.device_id, name=name, mobile=mobile)
    assert response.status_code == 200
    assert response.json() == {"sent": True, "expires_in": settings.otp_ttl_seconds}
    assert sms.messages() == []


def test_an_empty_name_is_refused(client, sms, device, officer_id):
    assert _start(client, device.device_id, name="").status_code == 422
    assert sms.messages() == []


def test_officer_of_another_station_cannot_log_in_on_this_device(client, db, sms, device, settings):
    elsewhere = make_station(db, "三重分局")
    make_officer(db, elsewhere, "陳大明", MOBILE)
    response = _start(client, device.device_id)
    assert response.status_code == 200 and response.json()["sent"] is True
    assert sms.messages() == []
    guessed = _verify(client, device.device_id, "123456")
    assert guessed.status_code == 400 and guessed.json()["error"] == "code_wrong"
    assert "credential" not in guessed.json()


def test_roster_probing_gets_the_same_answers(app, client, db, sms, device, officer_id, settings):
    """An attacker with a device id starts a login twice and guesses the code, for an officer on the
    roster and for a made-up one: every answer is the same."""
    app.state.context.settings = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    answers = {}
    for name, mobile in (("陳大明", "0912345678"), ("林小華", "0912999888")):
        first = _start(client, device.device_id, name=name, mobile=mobile)
        again = _start(client, device.device_id, name=name, mobile=mobile)
        guess = "000000" if sms.code(MOBILE) != "000000" else "111111"
        wrong = _verify(client, device.device_id, guess, mobile=mobile)
        answers[name] = [
            (first.status_code, first.json()),
            (again.status_code, again.json()["error"]),
            (wrong.status_code, wrong.json()["error"], wrong.json()["detail"]),
        ]
    assert answers["陳大明"] == answers["林小華"]
    assert answers["林小華"][1] == (429, "too_many_codes")
    assert sms.messages("+886912999888") == []


def test_wrong_code_gives_no_credential(client, sms, device, officer_id):
    _start(client, device.device_id)
    right = sms.code(MOBILE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    response = _verify(client, device.device_id, wrong)
    assert response.status_code == 400 and "credential" not in response.json()
    assert _verify(client, device.device_id, right).status_code == 200
    assert _verify(client, device.device_id, right).status_code == 400  # single use


def test_verify_needs_a_started_login_on_that_device(client, db, sms, device, officer_id, station):
    other = enrol_device(client, auth_headers(db, Role.STATION_ADMIN, org_id=station))
    _start(client, device.device_id)
    response = _verify(client, other.device_id, sms.code(MOBILE))
    assert response.status_code == 400 and response.json()["error"] == "no_login_pending"


def test_unknown_and_revoked_devices_are_refused(client, db, sms, device, officer_id, station):
    assert _start(client, "3f1c1a9e-8f4e-4c43-9d5a-0b8f2c7e1d00").status_code == 401
    admin = auth_headers(db, Role.STATION_ADMIN, org_id=station)
    assert client.post(f"{API}/devices/{device.device_id}/revoke", headers=admin).status_code == 200
    assert _start(client, device.device_id).status_code == 403
    assert sms.messages() == []


def test_the_device_login_is_the_only_officer_login(client):
    """One officer-login API: the one the checkpoint app calls (checkpoint_app/hubclient.py)."""
    for path in ("/api/v1/auth/officer-login/start", "/api/v1/auth/officer-login/verify"):
        r = client.post(path, json={"name": "陳大明", "mobile": "0912345678", "code": "123456"})
        assert r.status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert [p for p in paths if "officer" in p and "login" in p] == [
        "/api/v1/officers/login/start",
        "/api/v1/officers/login/verify",
    ]
