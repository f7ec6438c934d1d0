"""「誰查看了我的資料」 in the console (hub.console.pages_privacy): an admin sees the reads of their own data
(the admins list a super admin opened), the reader masked, and downloads one read's proof; never a read
that did not concern them, nor its proof."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models.identity import User
from hub.services import admins
from hub.services.bootstrap import create_super_admin
from hub.services.scope import Scope
from hub.services.transparency_check import verify_proof
from hub.services.transparency_log import log_public_key, sign_head
from tests.hub.console.consolekit import Console
from tests.hub.hubkit import Hub, SmsOutbox

SUPER = "+886911000001"
GENERAL = "+886911000002"
PASSWORD = "N3w-password!"


def _console(app: object, mobile: str, sms: SmsOutbox) -> Console:
    console = Console(TestClient(app))
    console.login(mobile, sms.initial_password(mobile))
    changed = console.post(
        "/console/password", {"current_password": sms.initial_password(mobile), "new_password": PASSWORD}
    )
    assert changed.status_code == 303, changed.text
    return console


@pytest.fixture
def consoles(hub: Hub, app: object, sms: SmsOutbox, keys_dir: object) -> tuple[Console, Console]:
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    boss = _console(app, SUPER, sms)
    # made by the service: the console's own form would show (and so read) the admins list at once
    chief = hub.db.scalars(select(User).where(User.mobile == SUPER)).one()
    admins.create_general_admin(hub.db, Scope.of(chief), mobile=GENERAL, name="林美華", permissions=set())
    hub.db.commit()
    return boss, _console(app, GENERAL, sms)


def test_an_admin_sees_who_read_their_data_and_gets_the_proof(
    hub: Hub, consoles: tuple[Console, Console]
) -> None:
    boss, general = consoles
    empty = general.get("/console/account/data-reads")
    assert empty.status_code == 200 and 'id="data-reads-none"' in empty.text
    assert 'id="data-reads-link"' in general.get("/console/account").text

    assert boss.get("/console/admins").status_code == 200  # names and mobiles of every admin
    page = general.get("/console/account/data-reads")
    assert page.status_code == 200
    assert "交通管制中心 總管理者 總**者" in page.text and "管理者名單" in page.text
    assert "0911000001" not in page.text and "911000001" not in page.text
    english = general.get("/console/account/data-reads", cookies={"checkpass_lang": "en"})
    assert english.status_code == 200 and "Who read my data" in english.text

    link = page.text.split('href="/console/account/data-reads/')[1].split('"')[0]
    event_id = int(link.split("/")[0])
    assert general.get(f"/console/account/data-reads/{event_id}/proof").status_code == 503  # not signed yet
    sign_head(hub.db)
    hub.db.commit()
    download = general.get(f"/console/account/data-reads/{event_id}/proof")
    assert download.status_code == 200, download.text
    assert "attachment" in download.headers["content-disposition"]
    proof = json.loads(download.text)
    assert verify_proof(proof, log_public_key(hub.db.info["hub"].settings.keys_dir)).ok

    # the super admin's own login entry, and an id that does not exist, are not the general admin's reads
    for other in (1, 10**9):
        assert general.get(f"/console/account/data-reads/{other}/proof").status_code == 404


def test_the_pages_need_a_login(client: TestClient) -> None:
    for path in ("/console/account/data-reads", "/console/account/data-reads/1/proof"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (303, 401), response.status_code
