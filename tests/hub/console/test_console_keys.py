"""Marking an issuer key compromised from the console's keys page: the super admin only, a typed reason,
audited; the served trust bundle then lists the key as compromised and a new key signs passes."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from crypto.trust import KeyState, load_trust_bundle
from hub.core.permissions import ALL_PERMISSIONS
from hub.models.audit import AuditEvent
from hub.services import keys
from tests.hub.console.test_console_pages import GENERAL, _console_login, _menu, super_console  # noqa: F401

KID = re.compile(r'action="/console/trust/keys/([0-9a-f]{16})/compromised"')


def _bundle_states(client: TestClient, db) -> dict[str, KeyState]:
    served = client.get("/api/v1/trust/bundle")
    assert served.status_code == 200
    bundle = load_trust_bundle(served.content, keys.root_public_key(db))
    return {info.kid.hex(): info.state for info in bundle.issuer_keys}


def test_super_admin_marks_the_active_key_compromised(super_console, client, db):  # noqa: F811
    page = super_console.get("/console/trust").text
    (active,) = KID.findall(page)
    assert _bundle_states(client, db)[active] is KeyState.ACTIVE

    no_reason = super_console.post(
        f"/console/trust/keys/{active}/compromised", {"reason": " "}, token_from="/console/trust"
    )
    assert no_reason.status_code == 400
    assert keys.keystore(db).active_kid().hex() == active  # refused: nothing changed

    done = super_console.post(
        f"/console/trust/keys/{active}/compromised",
        {"reason": "筆電遺失 <b>", "confirmed": "1"},
        token_from="/console/trust",
    )
    assert done.status_code == 303, done.text
    shown = super_console.get(done.headers["location"])
    assert "已標示金鑰外洩" in shown.text
    new_active = keys.keystore(db).active_kid().hex()
    assert new_active != active
    assert KID.findall(shown.text) == [new_active]  # the compromised key offers no second marking
    states = _bundle_states(client, db)
    assert states[active] is KeyState.COMPROMISED and states[new_active] is KeyState.ACTIVE
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "trust.issuer_compromised")).one()
    assert event.target == f"key:{active}" and event.details["reason"] == "筆電遺失 <b>"

    again = super_console.post(
        f"/console/trust/keys/{active}/compromised",
        {"reason": "再一次", "confirmed": "1"},
        token_from="/console/trust",
    )
    assert again.status_code == 409
    unknown = super_console.post(
        "/console/trust/keys/0000000000000000/compromised", {"reason": "x"}, token_from="/console/trust"
    )
    assert unknown.status_code == 404
    bad = super_console.post(
        "/console/trust/keys/zz/compromised", {"reason": "x"}, token_from="/console/trust"
    )
    assert bad.status_code in (400, 422)


def test_only_the_super_admin_marks_a_key_compromised(super_console, app, sms, db):  # noqa: F811
    (active,) = KID.findall(super_console.get("/console/trust").text)
    every = [p.value for p in ALL_PERMISSIONS]
    super_console.post("/console/admins", {"name": "全權", "mobile": "0911000002", "permissions": every})
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)
        assert "nav.trust" not in _menu(general.get("/console/").text)
        refused = general.post(
            f"/console/trust/keys/{active}/compromised", {"reason": "x"}, token_from="/console/"
        )
        assert refused.status_code == 403
    forged = super_console.client.post(
        f"/console/trust/keys/{active}/compromised", data={"reason": "x"}, follow_redirects=False
    )
    assert forged.status_code == 403  # no form token
    assert keys.keystore(db).active_kid().hex() == active
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "trust.issuer_compromised")).first() is None
    )


def test_offline_root_refuses_and_points_to_the_ceremony(super_console, settings, db):  # noqa: F811
    """With the root key offline the hub cannot sign the bundle that tells devices: refused, unchanged."""
    (active,) = KID.findall(super_console.get("/console/trust").text)
    settings.root_offline = True  # the object the app's context reads on each call
    page = super_console.get("/console/trust").text
    assert KID.findall(page) == []  # no marking offered
    refused = super_console.post(
        f"/console/trust/keys/{active}/compromised", {"reason": "筆電遺失"}, token_from="/console/trust"
    )
    assert refused.status_code == 409 and "checkpass keys compromise" in refused.text
    settings.root_offline = False
    assert keys.keystore(db).active_kid().hex() == active
