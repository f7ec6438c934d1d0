"""A LIFF form's refusal that can be waited out says how long, as REST's does (hub/errors.py): the SMS
provider down is a 503 and a cap a 429, each with Retry-After and `retry_after`. Found by the field
rehearsal (deploy/rehearsal/field.py): the registration form's code request got a bare 503."""

from __future__ import annotations

from fastapi.testclient import TestClient

from checkpass_testkit.line_standin import StandIn

FORM = {
    "company_name": "艾斯移動股份有限公司",
    "ubn": "04595257",
    "admin_name": "曾可愛",
    "admin_mobile": "0933000001",
}


def _ask(client: TestClient, standin: StandIn, user: str) -> object:
    body = {"id_token": standin.issue_id_token(user), **FORM}
    return client.post("/liff/api/enterprise/register/code", json=body)


def test_the_sms_provider_down_is_a_503_with_retry_after(app, client, settings, standin, tmp_path):
    broken = settings.model_copy(update={"sms_file_path": tmp_path / "no-such-dir" / "x" / "sms.jsonl"})
    (tmp_path / "no-such-dir").write_text("a file where a directory should be")
    app.state.settings = app.state.context.settings = broken
    app.state.context._sms = None
    response = _ask(client, standin, "U" + "1" * 32)
    assert response.status_code == 503 and response.json()["error"] == "sms_failed"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["retry_after"] == int(response.headers["Retry-After"])


def test_a_cap_is_a_429_with_retry_after(app, client, settings, standin):
    app.state.settings = app.state.context.settings = settings.model_copy(
        update={"otp_resend_cooldown_seconds": 0, "otp_hourly_cap_per_number": 1}
    )
    assert _ask(client, standin, "U" + "2" * 32).status_code == 202
    response = _ask(client, standin, "U" + "3" * 32)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["retry_after"] == int(response.headers["Retry-After"])
