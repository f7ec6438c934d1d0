"""The audit log's filters (hub.services.audit_search), for the console and `GET /api/v1/audit` alike:
each filter narrows to exactly the entries it means, bad input is refused naming its field, pages are
cut by id, the export is audited without the free text."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hub.models.audit import AuditEvent
from hub.models.identity import Role, User
from hub.services import audit_search
from hub.services.errors import Invalid, NotAllowed
from hub.services.scope import Scope
from tests.hub.test_devices_support import API, auth_headers

TAIPEI = ZoneInfo("Asia/Taipei")
DEVICE = str(uuid.UUID(int=7))
# 2026-12-01 in Taipei: 08:00 is 00:00 UTC.
DAY = dt.datetime(2026, 12, 1, 8, 0, tzinfo=TAIPEI)


def _at(hours: float) -> dt.datetime:
    return (DAY + dt.timedelta(hours=hours)).astimezone(dt.UTC)


ENTRIES = [
    # (hours after 2026-12-01 08:00 Taipei, action, actor, target, details)
    (0, "login", 1, None, {"method": "password"}),
    (1, "login.failed", None, "09***6***5", {"why": "unknown"}),
    (2, "device.enrolment_token", 1, "station:5", {"expires_at": 1}),
    (3, "station_admin.created", 1, "org:5", {"name": "林*華"}),
    (4, "device.revoked", 2, f"device:{DEVICE}", {}),
    (5, "import.rejected", 2, None, {"kind": "officers", "rows": 3}),
    (26, "pass.issued", 2, "org:12", {"count": 4, "org_name": "新北物流"}),
    (50, "enterprise.registration_refused", 1, "org:12", {"claim_id": 3}),
]


@pytest.fixture
def reader(db) -> Scope:
    user = User(mobile="+886911000001", name="總管理者", role=Role.SUPER_ADMIN.value, permissions=[])
    db.add(user)
    db.flush()
    for hours, action, actor, target, details in ENTRIES:
        db.add(
            AuditEvent(
                at=_at(hours),
                action=action,
                actor_user_id=actor,
                actor_role="super_admin" if actor else None,
                target=target,
                details=details,
                client_ip="203.0.113.9",
            )
        )
    db.commit()
    return Scope.of(user, "127.0.0.1")


def actions(db, scope, **given: str) -> list[str]:
    found = audit_search.search(db, scope, audit_search.parse_filter(**given), limit=100)
    assert found.total == len(found.events)
    return [e.action for e in reversed(found.events)]  # oldest first, as ENTRIES


def test_no_filter_finds_everything(db, reader):
    assert actions(db, reader) == [e[1] for e in ENTRIES]


def test_time_range_is_taipei_time_and_until_includes_what_it_names(db, reader):
    # A date alone: that whole Taipei day (08:00 .. next 07:59:59 UTC+8 are all on 12-01 until 24:00).
    assert actions(db, reader, since="2026-12-02", until="2026-12-02") == ["pass.issued"]
    # Minutes, read as Taipei time: 10:00 is the entry at +2 h; "until 11:00" includes 11:00 itself.
    assert actions(db, reader, since="2026-12-01T10:00", until="2026-12-01 11:00") == [
        "device.enrolment_token",
        "station_admin.created",
    ]
    # An explicit offset is honoured: 02:00 UTC is 10:00 Taipei.
    assert actions(db, reader, since="2026-12-01T02:00+00:00", until="2026-12-01T10:00")[0] == (
        "device.enrolment_token"
    )
    assert actions(db, reader, until="2026-12-01T08:59") == ["login"]


def test_target_filters(db, reader):
    assert actions(db, reader, target_kind="device", target_id=DEVICE.upper()) == ["device.revoked"]
    assert actions(db, reader, target_kind="device") == ["device.revoked"]
    # A station is an organisation: both ways its entries name it are found.
    assert actions(db, reader, target_kind="station", target_id="5") == [
        "device.enrolment_token",
        "station_admin.created",
    ]
    assert actions(db, reader, target_kind="org", target_id="12") == [
        "pass.issued",
        "enterprise.registration_refused",
    ]
    assert actions(db, reader, target_kind="org", target_id="99") == []


def test_outcome_filter(db, reader):
    assert actions(db, reader, outcome="refused") == ["login.failed", "import.rejected"]
    allowed = actions(db, reader, outcome="allowed")
    assert "login.failed" not in allowed and "import.rejected" not in allowed
    # An admin refusing a registration is an action carried out, not a refused one.
    assert "enterprise.registration_refused" in allowed and len(allowed) == len(ENTRIES) - 2


def test_free_text_over_non_personal_fields(db, reader):
    assert actions(db, reader, text="FAILED") == ["login.failed"]  # action, any case
    assert actions(db, reader, text="org:12") == ["pass.issued", "enterprise.registration_refused"]
    assert actions(db, reader, text="officers") == ["import.rejected"]  # in the details
    assert actions(db, reader, text="新北物流") == ["pass.issued"]  # non-ASCII in the details
    assert actions(db, reader, text="林*華") == ["station_admin.created"]  # masked, as shown
    assert actions(db, reader, text="203.0.113") == []  # the client address is not searched
    assert actions(db, reader, text="100%") == []  # LIKE wildcards are plain characters
    assert actions(db, reader, text="login_failed") == []  # "_" too (as a wildcard it would match)
    assert actions(db, reader, text="expires_at") == ["device.enrolment_token"]  # a details key


def test_filters_combine(db, reader):
    assert actions(db, reader, actor="2", since="2026-12-01", until="2026-12-01") == [
        "device.revoked",
        "import.rejected",
    ]
    assert actions(db, reader, actor="2", outcome="refused", action="import.rejected") == ["import.rejected"]
    assert actions(db, reader, action="login", actor="2") == []


BAD = [
    ({"since": "2026-13-45"}, "since"),
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-12-01T25:00"}, "until"),
    ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
    ({"action": "DROP TABLE"}, "action"),
    ({"actor": "abc"}, "actor"),
    ({"target_kind": "user"}, "target_kind"),
    ({"target_id": "5"}, "target_kind"),
    ({"target_kind": "device", "target_id": "not-a-uuid"}, "target_id"),
    ({"target_kind": "org", "target_id": "five"}, "target_id"),
    ({"outcome": "maybe"}, "outcome"),
    ({"text": "x" * 101}, "text"),
    ({"text": "a\x00b"}, "text"),
]


@pytest.mark.parametrize(("given", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_filter_input_is_refused_naming_the_field(given, field):
    with pytest.raises(Invalid) as refused:
        audit_search.parse_filter(**given)
    assert refused.value.field == field and refused.value.reason == "invalid_filter"
    assert str(refused.value.detail).startswith(f"{field}:")


def test_pages_are_cut_by_id_both_ways(db, reader):
    flt = audit_search.parse_filter()
    first = audit_search.search(db, reader, flt, limit=3)
    assert [e.action for e in first.events] == [e[1] for e in reversed(ENTRIES[-3:])]
    assert first.total == len(ENTRIES) and first.newer_after is None and first.older_before is not None
    second = audit_search.search(db, reader, flt, before_id=first.older_before, limit=3)
    assert [e.action for e in second.events] == [e[1] for e in reversed(ENTRIES[2:5])]
    assert second.newer_after is not None and second.older_before is not None
    last = audit_search.search(db, reader, flt, before_id=second.older_before, limit=3)
    assert [e.action for e in last.events] == ["login.failed", "login"] and last.older_before is None
    back = audit_search.search(db, reader, flt, after_id=second.newer_after, limit=3)
    assert [e.id for e in back.events] == [e.id for e in first.events] and back.newer_after is None


def test_reading_needs_audit_read(db, reader):
    station_admin = User(mobile="+886922000001", role=Role.STATION_ADMIN.value, permissions=[])
    db.add(station_admin)
    db.flush()
    with pytest.raises(NotAllowed):
        audit_search.search(db, Scope.of(station_admin), audit_search.parse_filter())
    with pytest.raises(NotAllowed):
        audit_search.export(db, Scope.of(station_admin), audit_search.parse_filter())


def test_export_is_audited_without_the_free_text(db, reader):
    flt = audit_search.parse_filter(outcome="refused", text="林大華")
    rows = audit_search.export(db, reader, flt)
    assert rows == []
    db.commit()
    entry = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.exported")).one()
    assert entry.details == {"outcome": "refused", "text": True, "rows": 0}
    assert "林大華" not in str(entry.details)


def test_rest_audit_listing_uses_the_same_filters(client, db, reader):
    headers = auth_headers(db, Role.SUPER_ADMIN)
    got = client.get(f"{API}/audit", params={"outcome": "refused", "since": "2026-12-01"}, headers=headers)
    assert got.status_code == 200, got.text
    assert [e["action"] for e in got.json()] == ["import.rejected", "login.failed"]
    bad = client.get(f"{API}/audit", params={"since": "2026-02-30"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "since", bad.text
    assert bad.json()["error"] == "invalid_filter"
