"""SMS one-time codes: hashed at rest, single use, newest wins, 5 tries, expiry, cooldown and caps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from hub.errors import HubError
from hub.models.identity import OtpCode
from hub.services import otp

MOBILE = "+886912345678"


def _code_row(db):
    db.expire_all()
    return db.scalars(select(OtpCode).where(OtpCode.mobile == MOBILE).order_by(OtpCode.id.desc())).first()


def test_code_is_sent_hashed_and_single_use(db, sms):
    otp.request_code(db, MOBILE, "visit", "203.0.113.5")
    code = sms.code(MOBILE)
    assert len(code) == 6 and code.isdigit()
    row = _code_row(db)
    assert code not in row.code_hash and len(row.code_hash) == 64
    otp.verify_code(db, MOBILE, "visit", code)
    db.commit()
    with pytest.raises(HubError) as again:
        otp.verify_code(db, MOBILE, "visit", code)
    assert again.value.reason == "code_used"


def test_code_is_bound_to_purpose_and_mobile(db, sms):
    otp.request_code(db, MOBILE, "visit", None)
    code = sms.code(MOBILE)
    with pytest.raises(HubError) as other_purpose:
        otp.verify_code(db, MOBILE, "footprint", code)
    assert other_purpose.value.reason == "code_invalid"
    with pytest.raises(HubError):
        otp.verify_code(db, "+886987654321", "visit", code)
    otp.verify_code(db, MOBILE, "visit", code)


def test_new_code_voids_old(db, sms):
    otp.request_code(db, MOBILE, "login", None)
    first = sms.code(MOBILE)
    otp.request_code(db, MOBILE, "login", None)
    second = sms.code(MOBILE)
    if first != second:  # 1 in a million they coincide
        with pytest.raises(HubError) as old:
            otp.verify_code(db, MOBILE, "login", first)
        assert old.value.reason == "code_wrong"
    otp.verify_code(db, MOBILE, "login", second)
    assert db.scalar(select(OtpCode.state).where(OtpCode.id == _code_row(db).id - 1)) == "voided"


def test_five_wrong_tries_kill_the_code(db, sms, settings):
    otp.request_code(db, MOBILE, "login", None)
    code = sms.code(MOBILE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    reasons = []
    for _ in range(settings.otp_max_attempts):
        with pytest.raises(HubError) as exc:
            otp.verify_code(db, MOBILE, "login", wrong)
        reasons.append(exc.value.reason)
    assert reasons == ["code_wrong"] * (settings.otp_max_attempts - 1) + ["code_exhausted"]
    with pytest.raises(HubError) as exc:
        otp.verify_code(db, MOBILE, "login", code)  # even the right code is dead now
    assert exc.value.reason == "code_exhausted"


def test_expired_code_is_refused(db, sms):
    otp.request_code(db, MOBILE, "login", None)
    code = sms.code(MOBILE)
    db.execute(update(OtpCode).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.commit()
    with pytest.raises(HubError) as exc:
        otp.verify_code(db, MOBILE, "login", code)
    assert exc.value.reason == "code_expired"


def test_default_lifetime_is_five_minutes(db, sms, settings):
    assert settings.otp_ttl_seconds == 300
    otp.request_code(db, MOBILE, "login", None)
    row = _code_row(db)
    assert (row.expires_at - row.created_at).total_seconds() == 300
    assert "5 分鐘" in sms.messages(MOBILE)[-1]["text"]


def test_cooldown_and_caps(app, db, sms, settings):
    cooled = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    app.state.context.settings = cooled
    otp.request_code(db, MOBILE, "login", "198.51.100.1")
    with pytest.raises(HubError) as exc:
        otp.request_code(db, MOBILE, "login", "198.51.100.1")
    assert exc.value.status_code == 429 and int(exc.value.headers["Retry-After"]) <= 60

    capped = settings.model_copy(update={"otp_hourly_cap_per_number": 3, "otp_hourly_cap_per_ip": 4})
    app.state.context.settings = capped
    for purpose in ("visit", "footprint"):
        otp.request_code(db, MOBILE, purpose, "198.51.100.1")
    with pytest.raises(HubError) as per_number:
        otp.request_code(db, MOBILE, "enterprise_registration", "198.51.100.2")
    assert per_number.value.status_code == 429 and "number" in per_number.value.detail
    otp.request_code(db, "+886922000111", "visit", "198.51.100.1")
    with pytest.raises(HubError) as per_ip:
        otp.request_code(db, "+886922000222", "visit", "198.51.100.1")
    assert per_ip.value.status_code == 429 and "address" in per_ip.value.detail
    otp.request_code(db, "+886922000222", "visit", "198.51.100.9")  # another address still works


def test_gateway_failure_records_nothing(app, db, settings, tmp_path):
    broken = settings.model_copy(update={"sms_file_path": tmp_path / "no-such-dir" / "x" / "sms.jsonl"})
    (tmp_path / "no-such-dir").write_text("a file where a directory should be")
    app.state.context.settings = broken
    app.state.context._sms = None
    with pytest.raises(HubError) as exc:
        otp.request_code(db, MOBILE, "login", None)
    assert exc.value.status_code == 502
    assert _code_row(db) is None


def test_http_code_request_validates_input(client, sms):
    for body in (
        {"mobile": "0912", "purpose": "visit"},
        {"mobile": MOBILE, "purpose": "anything"},
        {"mobile": ["x"], "purpose": "visit"},
        {"purpose": "visit"},
    ):
        r = client.post("/api/v1/otp/request", json=body)
        assert r.status_code == 422, body
    assert sms.messages() == []
    r = client.post("/api/v1/otp/request", json={"mobile": "0912 345 678", "purpose": "visit"})
    assert r.status_code == 200 and r.json() == {"sent": True, "expires_in": 300}
    assert sms.messages(MOBILE)


def test_login_code_goes_only_to_known_accounts_but_answers_the_same(client, sms):
    r = client.post("/api/v1/otp/request", json={"mobile": MOBILE, "purpose": "login"})
    assert r.status_code == 200 and r.json()["sent"] is True
    assert sms.messages() == []
