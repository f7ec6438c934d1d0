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
