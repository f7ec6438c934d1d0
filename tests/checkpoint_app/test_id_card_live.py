"""身分證核實 from the checkpoint core against a real hub (uvicorn on loopback): the device-signed request,
the hub's masked answer, the check in the register; a mistyped number never leaves the device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from checkpoint_app.errors import InputError
from checkpoint_app.service import CheckpointService
from tests.checkpoint_app.livehub import LiveHub
from tests.checkpoint_app.test_sync_live import enrolled_service

HOLDER = "F131104093"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    live = LiveHub(tmp_path / "hub")
    live.prepare()
    live.start(timeout=120.0)  # a loaded 2-core machine imports the hub slowly
    yield live
    live.close()


def _employee_with_pass(hub: LiveHub) -> None:
    from hub.models.identity import Role, User
    from hub.models.organisations import Organisation, OrgKind
    from hub.models.rosters import Employee
    from hub.services import people
    from hub.services.passes import issue_pass
    from hub.services.scope import Scope

    with hub.session() as db:
        org = Organisation(kind=OrgKind.ENTERPRISE.value, name="新北物流股份有限公司", ubn="12345675")
        db.add(org)
        db.flush()
        employee = Employee(org_id=org.id, name="王大明", mobile="+886955000001")
        people.set_national_id(db, employee, HOLDER)
        db.add(employee)
        admin = User(mobile="+886900000009", name="管理者", role=Role.SUPER_ADMIN.value, permissions=[])
        db.add(admin)
        db.flush()
        issue_pass(db, Scope.of(admin), org_id=org.id, employee_id=employee.id)
        db.commit()


def test_the_app_checks_an_id_card_at_the_hub(hub: LiveHub, tmp_path: Path) -> None:
    service: CheckpointService = enrolled_service(hub, tmp_path / "device")
    try:
        _employee_with_pass(hub)
        answer = service.check_id_card(" f131104093 ")
        assert answer.ok and answer.status == "valid"
        assert answer.holder_masked == "王*明" and answer.national_id_masked == "F13*1*4*9*"
        assert answer.organisation == "新北物流股份有限公司"
        nobody = service.check_id_card("A123456789")
        assert not nobody.ok and nobody.status == "none" and nobody.holder_masked is None
        assert [(s["ok"], s["reason"]) for s in hub.scans()] == [(1, "id_card:valid"), (0, "id_card:none")]
        with pytest.raises(InputError):
            service.check_id_card("F131104094")  # the checksum fails: refused on the device
        assert len(hub.scans()) == 2
    finally:
        service.close()
