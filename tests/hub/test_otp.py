"""SMS one-time codes: hashed at rest, single use, newest wins, 5 tries, expiry, cooldown and caps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from hub.models.identity import OtpCode
from hub.services import otp
from hub.services.errors import DomainError, TooManyRequests, Unavailable
from hub.services.unit_of_work import unit_of_work

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
    with pytest.raises(DomainError) as again:
        otp.verify_code(db, MOBILE, "visit", code)
    assert again.value.reason == "code_used"


def test_code_is_bound_to_purpose_and_mobile(db, sms):
    otp.request_code(db, MOBILE, "visit", None)
    code = sms.code(MOBILE)
    with pytest.raises(DomainError) as other_purpose:
        otp.verify_code(db, MOBILE, "footprint", code)
    assert other_purpose.value.reason == "code_invalid"
    with pytest.raises(DomainError):
        otp.verify_code(db, "+886987654321", "visit", code)
    otp.verify_code(db, MOBILE, "visit", code)


def test_new_code_voids_old(db, sms):
    otp.request_code(db, MOBILE, "login", None)
    first = sms.code(MOBILE)
    otp.request_code(db, MOBILE, "login", None)
    second = sms.code(MOBILE)
    if first != second:  # 1 in a million they coincide
        with pytest.raises(DomainError) as old:
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
        with pytest.raises(DomainError) as exc:
            otp.verify_code(db, MOBILE, "login", wrong)
        reasons.append(exc.value.reason)
    assert reasons == ["code_wrong"] * (settings.otp_max_attempts - 1) + ["code_exhausted"]
    with pytest.raises(DomainError) as exc:
        otp.verify_code(db, MOBILE, "login", code)  # even the right code is dead now
    assert exc.value.reason == "code_exhausted"


def test_expired_code_is_refused(db, sms):
    otp.request_code(db, MOBILE, "login", None)
    code = sms.code(MOBILE)
    db.execute(update(OtpCode).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    db.commit()
    with pytest.raises(DomainError) as exc:
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
    with pytest.raises(TooManyRequests) as exc:
        otp.request_code(db, MOBILE, "login", "198.51.100.1")
    assert 0 < exc.value.retry_after <= 60

    capped = settings.model_copy(update={"otp_hourly_cap_per_number": 3, "otp_hourly_cap_per_ip": 4})
    app.state.context.settings = capped
    for purpose in ("visit", "footprint"):
        otp.request_code(db, MOBILE, purpose, "198.51.100.1")
    with pytest.raises(DomainError) as per_number:
        otp.request_code(db, MOBILE, "enterprise_registration", "198.51.100.2")
    assert isinstance(per_number.value, TooManyRequests) and "number" in per_number.value.detail
    otp.request_code(db, "+886922000111", "visit", "198.51.100.1")
    with pytest.raises(DomainError) as per_ip:
        otp.request_code(db, "+886922000222", "visit", "198.51.100.1")
    assert isinstance(per_ip.value, TooManyRequests) and "address" in per_ip.value.detail
    otp.request_code(db, "+886922000222", "visit", "198.51.100.9")  # another address still works


def test_gateway_failure_records_nothing(app, db, settings, tmp_path):
    broken = settings.model_copy(update={"sms_file_path": tmp_path / "no-such-dir" / "x" / "sms.jsonl"})
    (tmp_path / "no-such-dir").write_text("a file where a directory should be")
    app.state.context.settings = broken
    app.state.context._sms = None
    with pytest.raises(Unavailable) as exc:
        with unit_of_work(app.state.sessionmaker) as command:  # as every front end runs a service
            otp.request_code(command, MOBILE, "login", None)
    assert exc.value.reason == "sms_failed"
    assert _code_row(db) is None


def test_http_code_request_validates_input(client, sms):
    for body in (
        {"mobile": "0912", "purpose": "footprint"},
        {"mobile": MOBILE, "purpose": "anything"},
        {"mobile": ["x"], "purpose": "footprint"},
        {"purpose": "footprint"},
    ):
        r = client.post("/api/v1/otp/request", json=body)
        assert r.status_code == 422, body
    assert sms.messages() == []
    r = client.post("/api/v1/otp/request", json={"mobile": "0912 345 678", "purpose": "footprint"})
    assert r.status_code == 200 and r.json() == {"sent": True, "expires_in": 300}
    assert sms.messages(MOBILE)


def test_login_code_goes_only_to_known_accounts_but_answers_the_same(client, sms):
    r = client.post("/api/v1/otp/request", json={"mobile": MOBILE, "purpose": "login"})
    assert r.status_code == 200 and r.json()["sent"] is True
    assert sms.messages() == []


# --- the answer does not tell whether a number has an account ---


def _ask(client, mobile, purpose="login"):
    return client.post("/api/v1/otp/request", json={"mobile": mobile, "purpose": purpose})


def _guess(client, mobile, code="000000"):
    return client.post("/api/v1/auth/sms-login", json={"mobile": mobile, "code": code})


def test_login_code_answers_do_not_tell_registered_numbers_apart(hub, app, client, sms, settings):
    """An attacker asks twice for a login code, then guesses it: every answer is the same for a number
    with an account and one without, although only the first gets an SMS."""
    hub.register_enterprise(mobile="+886933000001")
    registered, unknown = "+886933000001", "+886933000999"
    app.state.context.settings = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    answers = {}
    for mobile in (registered, unknown):
        first, second = _ask(client, mobile), _ask(client, mobile)
        guess = _guess(client, mobile, "000000" if sms.code(registered) != "000000" else "111111")
        answers[mobile] = (
            first.status_code,
            first.json(),
            second.status_code,
            second.json()["error"],
            guess.status_code,
            guess.json()["error"],
            guess.json()["detail"],
        )
    assert answers[registered] == answers[unknown]
    assert answers[unknown][2:4] == (429, "too_many_codes")
    assert answers[unknown][5] == "code_wrong"
    assert sms.messages(unknown) == []  # nothing is delivered to a number without an account


def test_a_429_says_how_long_to_wait(app, client, settings):
    app.state.context.settings = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    assert _ask(client, MOBILE, "footprint").status_code == 200
    r = _ask(client, MOBILE, "footprint")
    assert r.status_code == 429
    assert 0 < r.json()["retry_after"] <= 60
    assert r.headers["Retry-After"] == str(r.json()["retry_after"])


# --- the hourly and daily caps, per number and per address ---


def _from(app, address):
    from fastapi.testclient import TestClient

    return TestClient(app, client=(address, 40000))


def _sent_earlier(db, *, mobile, address, hours_ago, count):
    """Sends that happened `hours_ago` (inside the day, outside the hour): the caps' memory."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    for i in range(count):
        db.add(
            OtpCode(
                mobile=mobile if mobile else f"+88693300{i:04d}",
                purpose="visit",
                code_hash="0" * 64,
                client_ip=address,
                created_at=at + dt.timedelta(minutes=i),
                expires_at=at + dt.timedelta(minutes=i + 5),
                state="voided",
            )
        )
    db.commit()


@pytest.fixture
def caps(app, settings):
    def set_caps(**caps):
        app.state.context.settings = settings.model_copy(
            update={
                "otp_hourly_cap_per_number": 100,
                "otp_daily_cap_per_number": 100,
                "otp_hourly_cap_per_ip": 100,
                "otp_daily_cap_per_ip": 100,
                **caps,
            }
        )

    return set_caps


def test_hourly_cap_per_number(app, db, caps):
    caps(otp_hourly_cap_per_number=2)
    _sent_earlier(db, mobile=MOBILE, address="198.51.100.7", hours_ago=2, count=5)  # outside the hour
    for i, purpose in enumerate(("login", "footprint")):
        assert _ask(_from(app, f"203.0.113.{i + 1}"), MOBILE, purpose).status_code == 200
    r = _ask(_from(app, "203.0.113.3"), MOBILE, "enterprise_registration")
    assert r.status_code == 429 and "number" in r.json()["detail"] and "hour" in r.json()["detail"]
    assert 3000 < r.json()["retry_after"] <= 3601  # until the first of the two leaves the hour
    assert _ask(_from(app, "203.0.113.3"), "+886987654321", "footprint").status_code == 200


def test_daily_cap_per_number(app, db, caps):
    caps(otp_daily_cap_per_number=3)
    _sent_earlier(db, mobile=MOBILE, address="198.51.100.7", hours_ago=5, count=2)
    assert _ask(_from(app, "203.0.113.1"), MOBILE, "login").status_code == 200  # the third today
    r = _ask(_from(app, "203.0.113.2"), MOBILE, "footprint")
    assert r.status_code == 429 and "number" in r.json()["detail"] and "today" in r.json()["detail"]
    # The oldest of the day's three was 5 h ago: it leaves the day in about 19 h.
    assert 18 * 3600 < r.json()["retry_after"] <= 19 * 3600 + 1
    assert _ask(_from(app, "203.0.113.2"), "+886987654321", "footprint").status_code == 200


def test_hourly_cap_per_address(app, db, caps):
    caps(otp_hourly_cap_per_ip=2)
    address = "203.0.113.50"
    _sent_earlier(db, mobile=None, address=address, hours_ago=2, count=5)
    attacker = _from(app, address)
    assert _ask(attacker, "+886912000001", "footprint").status_code == 200
    assert _ask(attacker, "+886912000002", "footprint").status_code == 200
    r = _ask(attacker, "+886912000003", "footprint")
    assert r.status_code == 429 and "address" in r.json()["detail"] and "hour" in r.json()["detail"]
    assert _ask(_from(app, "203.0.113.51"), "+886912000003", "footprint").status_code == 200


def test_daily_cap_per_address(app, db, caps):
    caps(otp_daily_cap_per_ip=4)
    address = "203.0.113.60"
    _sent_earlier(db, mobile=None, address=address, hours_ago=3, count=3)
    attacker = _from(app, address)
    assert _ask(attacker, "+886912000001", "footprint").status_code == 200
    r = _ask(attacker, "+886912000002", "footprint")
    assert r.status_code == 429 and "address" in r.json()["detail"] and "today" in r.json()["detail"]
    assert 20 * 3600 < r.json()["retry_after"] <= 21 * 3600 + 1
    assert _ask(_from(app, "203.0.113.61"), "+886912000002", "footprint").status_code == 200


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_a_code_typed_full_width_or_with_a_space_is_the_code(db, sms):
    """A full-width keyboard types １２３４５６: that is the code, as a full-width mobile is the mobile."""
    otp.request_code(db, MOBILE, "footprint", None)
    code = sms.code(MOBILE)
    otp.verify_code(db, MOBILE, "footprint", code.translate(FULL_WIDTH))
    db.commit()
    otp.request_code(db, "+886912000999", "footprint", None)
    spaced = sms.code("+886912000999")
    otp.verify_code(db, "+886912000999", "footprint", f" {spaced[:3]} {spaced[3:]} ")
    # Digits of other scripts are not the code's digits: refused as malformed, no try spent.
    with pytest.raises(DomainError) as arabic:
        otp.verify_code(db, MOBILE, "footprint", "١٢٣٤٥٦")
    assert arabic.value.reason == "code_malformed"


def test_a_full_width_code_through_the_api(client, sms):
    mobile = "０９１２３４５６７８"  # full-width mobile, accepted before this change too
    r = client.post("/api/v1/otp/request", json={"mobile": mobile, "purpose": "footprint"})
    assert r.status_code == 200, r.text
    code = sms.code(MOBILE).translate(FULL_WIDTH)
    r = client.post("/api/v1/footprint", json={"mobile": mobile, "code": code})
    assert r.status_code == 200, r.text


def test_a_provider_outage_answers_503_with_retry_after(app, client, settings, tmp_path):
    """The SMS provider down is a deliberate 503 a client can wait out (found by the field rehearsal,
    deploy/rehearsal/field.py: the 503 came without Retry-After)."""
    broken = settings.model_copy(update={"sms_file_path": tmp_path / "no-such-dir" / "x" / "sms.jsonl"})
    (tmp_path / "no-such-dir").write_text("a file where a directory should be")
    app.state.context.settings = broken
    app.state.context._sms = None
    response = client.post("/api/v1/otp/request", json={"mobile": "0912345678", "purpose": "footprint"})
    assert response.status_code == 503
    assert response.json()["error"] == "sms_failed"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["retry_after"] == int(response.headers["Retry-After"])
