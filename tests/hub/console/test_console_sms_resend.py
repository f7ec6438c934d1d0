"""Console SMS login with the resend cooldown on: asking again too soon keeps the person on the code page,
told in zh-TW how long to wait, and the first code, still valid, logs them in."""

from __future__ import annotations

from sqlalchemy import select

from hub.models.identity import User
from tests.hub.console.consolekit import Console
from tests.hub.console.test_console_pages import super_console  # noqa: F401


def test_a_refused_resend_keeps_the_code_page_and_the_first_code_works(
    super_console,  # noqa: F811
    app,
    client,
    sms,
    db,
    settings,
):
    from fastapi.testclient import TestClient

    added = super_console.post(
        "/console/stations/admins",
        {"name": "林警官", "mobile": "0922000009", "national_id": "A123456789"},
        token_from="/console/stations",
    )
    assert added.status_code == 303
    app.state.context.settings = settings.model_copy(update={"otp_resend_cooldown_seconds": 60})
    with TestClient(app) as other:
        console = Console(other)
        sent = console.post("/console/login/sms", {"mobile": "0922000009"})
        assert sent.status_code == 200 and 'name="code"' in sent.text
        first_code = sms.code("+886922000009")
        again = console.post("/console/login/sms", {"mobile": "0922000009"}, token_from="/console/login/sms")
        assert again.status_code == 429
        assert 'name="code"' in again.text  # still where the code is typed
        assert "請於 1 分鐘後再要求重新發送" in again.text and "已收到的驗證碼仍可使用" in again.text
        assert 'id="resend"' in again.text
        assert len(sms.messages("+886922000009")) == 1  # no second code went out
        done = console.post(
            "/console/login/sms",
            {"mobile": "0922000009", "code": first_code},
            token_from="/console/login/sms",
        )
        assert done.status_code == 303 and done.headers["location"] == "/console/"
    db.expire_all()
    assert db.scalars(select(User.registered_at).where(User.mobile == "+886922000009")).one() is not None


def test_the_first_console_sms_login_registers_and_a_second_only_logs_in(
    super_console,  # noqa: F811
    app,
    sms,
    db,
):
    """The console's login bookkeeping is the identity service's (`signed_in`, as REST's tokens): the first
    SMS login registers the imported admin, a later one keeps that date and moves only the last login."""
    from fastapi.testclient import TestClient

    from hub.models.audit import AuditEvent

    added = super_console.post(
        "/console/stations/admins",
        {"name": "林警官", "mobile": "0922000008", "national_id": "A123456789"},
        token_from="/console/stations",
    )
    assert added.status_code == 303

    def log_in() -> tuple[object, object]:
        with TestClient(app) as other:
            console = Console(other)
            assert console.post("/console/login/sms", {"mobile": "0922000008"}).status_code == 200
            code = sms.code("+886922000008")
            done = console.post(
                "/console/login/sms", {"mobile": "0922000008", "code": code}, token_from="/console/login/sms"
            )
            assert done.status_code == 303 and done.headers["location"] == "/console/"
        db.expire_all()
        admin = db.scalars(select(User).where(User.mobile == "+886922000008")).one()
        return admin.registered_at, admin.last_login_at

    registered, first_seen = log_in()
    assert registered is not None and first_seen == registered
    registered_again, last_seen = log_in()
    assert registered_again == registered and last_seen is not None and last_seen > first_seen
    logins = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id.desc()).limit(2)
    ).all()
    assert [e.details.get("first_login") for e in reversed(logins)] == [True, False]
