"""Failed console logins slow the attacker down with growing delays; nobody can lock an admin out.

Each test plays the attacker from its own client address (a TestClient with a fixed peer address);
the real admin logs in from another one. See docs/identity.md for the schedule.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hub.main import create_app
from hub.models.throttle import LoginThrottle
from hub.services.login_throttle import delay_after
from tests.hub.hubkit import bearer

ADMIN = "+886911000002"
PASSWORD = "N3w-password!"


def _from(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def _login(client: TestClient, password: str, mobile: str = ADMIN):
    return client.post("/api/v1/auth/login", json={"mobile": mobile, "password": password})


def _wait_over(db) -> None:
    """Let every wait run out, as if time had passed (the failures are still remembered)."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.execute(
        update(LoginThrottle).where(LoginThrottle.blocked_until.is_not(None)).values(blocked_until=past)
    )
    db.commit()


@pytest.fixture
def admin(hub) -> str:
    return hub.super_admin_token(ADMIN)


def test_the_schedule():
    assert [delay_after(n, 3, 2, 900) for n in range(1, 14)] == [
        0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900
    ]  # fmt: skip


def test_an_attacker_is_slowed_and_the_admin_elsewhere_is_not(app, admin, settings):
    attacker = _from(app, "203.0.113.7")
    for _ in range(settings.login_free_failures_per_pair):
        r = _login(attacker, "wrong")
        assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    # The next try from there waits, even with the right password: it is not even checked.
    r = _login(attacker, PASSWORD)
    assert r.status_code == 429 and r.json()["error"] == "login_throttled"
    assert r.json()["retry_after"] == int(r.headers["Retry-After"]) == settings.login_first_delay_seconds
    # The real admin, from another address, is not locked out: five and more failures lock nobody.
    for _ in range(5):
        _login(attacker, "wrong")
    r = _login(_from(app, "198.51.100.20"), PASSWORD)
    assert r.status_code == 200, r.text


def test_the_waits_grow_and_every_worker_sees_them(app, db, admin, settings):
    attacker = _from(app, "203.0.113.8")
    for _ in range(settings.login_free_failures_per_pair):
        _login(attacker, "wrong")
    waits = []
    for _ in range(4):
        _wait_over(db)
        assert _login(attacker, "wrong").status_code == 401
        refused = _login(attacker, "wrong")
        assert refused.status_code == 429
        waits.append(refused.json()["retry_after"])
    assert waits == [4, 8, 16, 32]
    # A second worker (another app on the same database) refuses the same attacker.
    other_worker = create_app(settings)
    try:
        r = _login(_from(other_worker, "203.0.113.8"), PASSWORD)
        assert r.status_code == 429 and r.json()["retry_after"] > 16
    finally:
        other_worker.state.engine.dispose()


def test_unknown_numbers_are_throttled_alike(app, admin, settings):
    """The answers for a number without an account are the same as for the admin's."""
    answers = {}
    for i, mobile in enumerate((ADMIN, "+886911999999")):
        attacker = _from(app, f"203.0.113.{20 + i}")
        answers[mobile] = [
            (r.status_code, r.json()["error"])
            for r in (
                _login(attacker, "wrong", mobile) for _ in range(settings.login_free_failures_per_pair + 1)
            )
        ]
    assert answers[ADMIN] == answers["+886911999999"]
    assert answers[ADMIN][-1] == (429, "login_throttled")


def test_a_right_password_ends_the_run_of_failures(app, admin, settings):
    user = _from(app, "198.51.100.30")
    for _ in range(2):
        for _ in range(settings.login_free_failures_per_pair - 1):
            assert _login(user, "typo").status_code == 401
        assert _login(user, PASSWORD).status_code == 200


def test_a_right_password_ends_the_accounts_run_of_failures_too(app, admin, settings):
    app.state.context.settings = settings.model_copy(update={"login_free_failures_per_account": 3})
    for i in range(2):
        assert _login(_from(app, f"198.51.100.{40 + i}"), "typo").status_code == 401
    assert _login(_from(app, "198.51.100.42"), PASSWORD).status_code == 200
    for i in range(2):
        assert _login(_from(app, f"198.51.100.{43 + i}"), "typo").status_code == 401
    # Four failures in all, but the success between them ended the run: a new address gets in.
    assert _login(_from(app, "198.51.100.45"), PASSWORD).status_code == 200


def test_a_right_password_does_not_wash_the_addresss_spraying_away(app, admin, settings):
    """One valid account at hand must not let an address spray others for free."""
    app.state.context.settings = settings.model_copy(update={"login_free_failures_per_address": 3})
    sprayer = _from(app, "203.0.113.50")
    for i in range(2):
        assert _login(sprayer, "123456", f"+88691100020{i}").status_code == 401
    assert _login(sprayer, PASSWORD).status_code == 200  # its own account, the right password
    assert _login(sprayer, "123456", "+886911000202").status_code == 401  # the third failure here
    r = _login(sprayer, "123456", "+886911000203")
    assert r.status_code == 429 and r.json()["error"] == "login_throttled"


def test_one_address_spraying_many_accounts_is_slowed(app, settings):
    app.state.context.settings = settings.model_copy(update={"login_free_failures_per_address": 3})
    sprayer = _from(app, "203.0.113.40")
    for i in range(3):
        assert _login(sprayer, "123456", f"+88691100010{i}").status_code == 401
    r = _login(sprayer, "123456", "+886911000109")
    assert r.status_code == 429 and r.json()["error"] == "login_throttled"
    assert _login(_from(app, "203.0.113.41"), "123456", "+886911000109").status_code == 401


def test_many_addresses_on_one_account_spare_the_admins_own_address(app, hub, client, settings):
    hub.super_admin_token(ADMIN)  # logged in from the TestClient's address: a known address
    app.state.context.settings = settings.model_copy(update={"login_free_failures_per_account": 3})
    for i in range(3):
        assert _login(_from(app, f"203.0.113.{60 + i}"), "wrong").status_code == 401
    # A new address now waits for the account ...
    assert _login(_from(app, "203.0.113.70"), PASSWORD).status_code == 429
    # ... but the admin's own address, where they logged in before, does not.
    assert _login(client, PASSWORD).status_code == 200


def test_a_stolen_session_cannot_guess_the_password(app, hub, settings):
    token = hub.super_admin_token(ADMIN)
    thief = _from(app, "203.0.113.80")
    answers = []
    for _ in range(settings.login_free_failures_per_pair + 1):
        r = thief.post(
            "/api/v1/auth/password",
            json={"current_password": "guess-1234", "new_password": "Th1ef-password"},
            headers=bearer(token),
        )
        answers.append((r.status_code, r.json()["error"]))
    assert answers[-2] == (400, "bad_credentials") and answers[-1] == (429, "login_throttled")


def test_concurrent_failures_all_count(app, db):
    """Two workers count a failure on the same counters at the same moment: both count. Each thread is
    held at its first write until the other arrives there too, so both have read whatever they read
    before either writes (a read-then-write count would lose one)."""
    import threading

    from sqlalchemy import event, select

    from hub.services import login_throttle

    meet, local = threading.Barrier(2), threading.local()

    def hold_first_write(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE LOGIN_THROTTLES") and not getattr(
            local, "met", False
        ):
            local.met = True
            try:
                meet.wait(timeout=3)  # a backend that locks on read never lets both arrive: go on
            except threading.BrokenBarrierError:
                pass

    def fail() -> None:
        with app.state.sessionmaker() as session:
            login_throttle.record_failure(session, ADMIN, "203.0.113.90")
            session.commit()

    fail()  # the counters exist: the two below race on the same rows
    event.listen(app.state.engine, "before_cursor_execute", hold_first_write)
    try:
        workers = [threading.Thread(target=fail) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", hold_first_write)
    db.expire_all()
    assert sorted(db.scalars(select(LoginThrottle.failures))) == [3, 3, 3]  # account, pair, address
