"""The LINE 詢問客服 messages in the console: hub admins read them (text escaped, mobiles masked) and
mark them handled; an enterprise admin, who is no hub admin, gets 403 and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models.audit import AuditEvent
from hub.models.line import ChannelName, LineSupportMessage
from hub.services.bootstrap import create_super_admin
from hub.services.support import store
from tests.hub.console.test_console_pages import GENERAL, SUPER, XSS, _console_login, _enterprise_console


def _message(db, text: str, mobile: str | None = "+886912345675") -> int:
    store(db, ChannelName.ENTERPRISE, "U" + "1" * 32, mobile, text)
    db.commit()
    return db.scalars(select(LineSupportMessage.id).order_by(LineSupportMessage.id.desc())).first()


def test_hub_admin_reads_escaped_masked_messages_and_marks_them_handled(hub, app, client, sms, keys_dir, db):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console = _console_login(client, sms, SUPER)
    message_id = _message(db, f"請協助 {XSS}")
    _message(db, "尚未綁定的人", mobile=None)

    shown = console.get("/console/support")
    assert shown.status_code == 200
    table = shown.text[shown.text.find('id="support"') :]
    assert "請協助" in table and "&lt;script&gt;" in table
    assert "<script>alert(1)" not in table and "<img src=x" not in table
    assert "未綁定" in table
    # masked like every other page, although the super admin holds personal_data.unmask
    assert "0912345675" not in table and "09***4***5" in table
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "line.support.read")).first()

    added = console.post("/console/admins", {"name": "王一般", "mobile": "0911000002", "permissions": []})
    assert added.status_code == 303, added.text
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)
        table = general.get("/console/support").text
        assert "請協助" in table and "0912345675" not in table and "09***4***5" in table

    done = console.post(f"/console/support/{message_id}/handled", {}, token_from="/console/support")
    assert done.status_code == 303
    db.expire_all()
    assert db.get(LineSupportMessage, message_id).handled_at is not None
    assert "請協助" not in console.get("/console/support").text  # open messages only by default
    assert "請協助" in console.get("/console/support?show=all").text

    missing = console.post("/console/support/999999/handled", {}, token_from="/console/support")
    assert missing.status_code == 404


def _table(response) -> str:
    return response.text[response.text.find('id="support"') :]


def _events(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_mobile_is_shown_in_clear_only_when_asked_with_a_reason_and_audited(
    hub, app, client, sms, keys_dir, db
):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console = _console_login(client, sms, SUPER)
    _message(db, "請回電給我")

    no_reason = console.get("/console/support?unmask=1&reason=%20")
    assert no_reason.status_code == 400 and "顯示完整個資須填寫原因" in no_reason.text
    assert "0912345675" not in _table(no_reason) and "09***4***5" in _table(no_reason)
    assert _events(db, "line.support.read") == [] and _events(db, "personal_data.unmask_reason") == []

    shown = console.get("/console/support?unmask=1&reason=民眾要求回電")
    assert shown.status_code == 200 and "0912345675" in _table(shown)
    [why] = _events(db, "personal_data.unmask_reason")
    assert why.details["reason"] == "民眾要求回電" and why.details["register"] == "support"
    [read] = _events(db, "line.support.read")
    assert read.details["unmasked"] is True
    assert "0912345675" not in _table(console.get("/console/support"))  # the next visit is masked again

    added = console.post("/console/admins", {"name": "王一般", "mobile": "0911000002", "permissions": []})
    assert added.status_code == 303, added.text  # post-redirect-get
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)  # no personal_data.unmask
        assert 'name="unmask"' not in general.get("/console/support").text
        refused = general.get("/console/support?unmask=1&reason=好奇")
        assert refused.status_code == 403 and "0912345675" not in refused.text
    assert len(_events(db, "line.support.read")) == 1


def test_forged_mark_handled_without_token_changes_nothing(hub, client, sms, keys_dir, db):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console = _console_login(client, sms, SUPER)
    message_id = _message(db, "請回電")
    forged = console.client.post(f"/console/support/{message_id}/handled", follow_redirects=False)
    assert forged.status_code == 403
    db.expire_all()
    assert db.get(LineSupportMessage, message_id).handled_at is None


def test_a_non_admin_gets_403_and_changes_nothing(hub, client, sms, keys_dir, db):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console, own = _enterprise_console(hub, client, sms)
    message_id = _message(db, "請回電")
    assert console.get("/console/support").status_code == 403
    refused = console.post(
        f"/console/support/{message_id}/handled", {}, token_from=f"/console/enterprises/{own}"
    )
    assert refused.status_code == 403
    db.expire_all()
    assert db.get(LineSupportMessage, message_id).handled_at is None
