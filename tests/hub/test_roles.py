"""The role matrix: each role reaches exactly what it should, scoped to its own organisation."""

from __future__ import annotations

import pytest

from tests.hub.hubkit import bearer, officer_session


@pytest.fixture
def world(hub, client, sms, keys_dir):
    """One of every role, plus a second station and enterprise to prove organisation scoping."""
    sup = hub.super_admin_token()
    tokens = {"super_admin": sup}
    tokens["general_admin_none"] = hub.create_general_admin(sup, "+886911000101", [])
    tokens["general_admin_queries"] = hub.create_general_admin(
        sup, "+886911000102", ["query.passes", "query.checks", "query.visits", "stations.manage"]
    )
    station = hub.create_station(sup, "板橋分局")
    other_station = hub.create_station(sup, "三重分局")
    tokens["station_admin"] = hub.station_admin_token(sup, station["id"])
    r = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "張志明", "officer_number": "NTP-0001", "mobile": "0955111222"},
        headers=bearer(tokens["station_admin"]),
    )
    assert r.status_code == 201, r.text
    tokens["officer"] = officer_session(hub.db, r.json()["id"])
    tokens["enterprise_admin"], enterprise = hub.register_enterprise()
    _, other_enterprise = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="另一家公司")
    r = client.post(
        f"/api/v1/enterprises/{enterprise['id']}/employees",
        json={"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"},
        headers=bearer(tokens["enterprise_admin"]),
    )
    assert r.status_code == 201, r.text
    tokens["employee"] = hub.sms_login("+886912345678")
    return {
        "tokens": tokens,
        "station": station["id"],
        "other_station": other_station["id"],
        "enterprise": enterprise["id"],
        "other_enterprise": other_enterprise["id"],
    }


ROLES = (
    "super_admin",
    "general_admin_none",
    "general_admin_queries",
    "station_admin",
    "officer",
    "enterprise_admin",
    "employee",
)

# (method, path template, roles allowed)
MATRIX = [
    ("GET", "/api/v1/admins", {"super_admin"}),
    ("GET", "/api/v1/audit", {"super_admin"}),
    ("GET", "/api/v1/stations", {"super_admin", "general_admin_queries"}),
    ("GET", "/api/v1/station-admins", {"super_admin", "general_admin_queries"}),
    ("GET", "/api/v1/stations/{station}/officers", {"super_admin", "general_admin_queries", "station_admin"}),
    ("GET", "/api/v1/stations/{other_station}/officers", {"super_admin", "general_admin_queries"}),
    ("GET", "/api/v1/enterprises/{enterprise}/employees", {"super_admin", "enterprise_admin"}),
    ("GET", "/api/v1/enterprises/{other_enterprise}/employees", {"super_admin"}),
    ("GET", "/api/v1/enterprises/{enterprise}/passes", {"super_admin", "enterprise_admin"}),
    ("GET", "/api/v1/organisations/{enterprise}/venues", {"super_admin", "enterprise_admin"}),
    (
        "GET",
        "/api/v1/organisations/{station}/venues",
        {"super_admin", "general_admin_queries", "station_admin"},
    ),
    ("GET", "/api/v1/queries/passes", {"super_admin", "general_admin_queries", "enterprise_admin"}),
    (
        "GET",
        "/api/v1/queries/passes?enterprise_id={other_enterprise}",
        {"super_admin", "general_admin_queries"},
    ),
    ("GET", "/api/v1/queries/checks", {"super_admin", "general_admin_queries", "station_admin"}),
    (
        "GET",
        "/api/v1/queries/visits",
        {"super_admin", "general_admin_queries", "station_admin", "enterprise_admin"},
    ),
    ("GET", "/api/v1/queries/passes?unmask=true", {"super_admin"}),
    ("GET", "/api/v1/me/passes", {"employee"}),
    ("GET", "/api/v1/auth/me", set(ROLES)),
    ("GET", "/api/v1/me/footprint", set(ROLES)),
    ("POST", "/api/v1/retention/purge", {"super_admin"}),
]


def test_role_matrix(client, world):
    failures = []
    for method, template, allowed in MATRIX:
        path = template.format(**{k: v for k, v in world.items() if k != "tokens"})
        for role in ROLES:
            r = client.request(method, path, headers=bearer(world["tokens"][role]))
            ok = r.status_code < 400
            if ok != (role in allowed):
                failures.append(f"{method} {path} as {role}: {r.status_code} {r.text[:120]}")
            elif not ok:
                assert r.status_code in (403, 404), (method, path, role, r.status_code)
                assert r.json()["error"] in ("forbidden", "not_found")
    assert not failures, "\n".join(failures)


def test_no_token_is_401_everywhere(client, world):
    for method, template, _allowed in MATRIX:
        path = template.format(**{k: v for k, v in world.items() if k != "tokens"})
        r = client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)


def test_general_admin_cannot_grant_beyond_own(hub, client, world):
    limited = world["tokens"]["general_admin_queries"]
    sup = world["tokens"]["super_admin"]
    # Give it admins.manage (within the super admin's rights).
    admins = client.get("/api/v1/admins", headers=bearer(sup)).json()
    target = next(a for a in admins if a["role"] == "general_admin" and "query.passes" in a["permissions"])
    r = client.patch(
        f"/api/v1/admins/{target['id']}",
        json={"permissions": [*target["permissions"], "admins.manage"]},
        headers=bearer(sup),
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/admins",
        json={"mobile": "0911000201", "name": "甲", "permissions": ["audit.read"]},
        headers=bearer(limited),
    )
    assert r.status_code == 403 and r.json()["error"] == "grant_exceeds_own"
    r = client.post(
        "/api/v1/admins",
        json={"mobile": "0911000201", "name": "甲", "permissions": ["query.passes"]},
        headers=bearer(limited),
    )
    assert r.status_code == 201 and r.json()["permissions"] == ["query.passes"]
    # It cannot raise itself, nor touch the super admin.
    r = client.patch(
        f"/api/v1/admins/{target['id']}", json={"permissions": ["audit.read"]}, headers=bearer(limited)
    )
    assert r.status_code == 403
    super_id = next(a["id"] for a in admins if a["role"] == "super_admin")
    r = client.delete(f"/api/v1/admins/{super_id}", headers=bearer(limited))
    assert r.status_code == 403
    assert client.get("/api/v1/auth/me", headers=bearer(sup)).status_code == 200


def test_disabled_admin_loses_access(hub, client, world):
    sup = world["tokens"]["super_admin"]
    token = world["tokens"]["general_admin_queries"]
    me = client.get("/api/v1/auth/me", headers=bearer(token)).json()
    assert client.delete(f"/api/v1/admins/{me['id']}", headers=bearer(sup)).status_code == 204
    r = client.get("/api/v1/stations", headers=bearer(token))
    assert r.status_code == 401


def _national_id(prefix: str) -> str:
    from crypto.identity import is_valid_national_id

    return next(prefix + str(d) for d in range(10) if is_valid_national_id(prefix + str(d)))


def test_write_matrix(client, world):
    """Creating things: each role may write only where it should; refusals change nothing."""
    ids = {k: v for k, v in world.items() if k != "tokens"}
    writes = [
        (
            "/api/v1/admins",
            lambda i: {"mobile": f"09110005{i:02d}", "name": "甲", "permissions": []},
            {"super_admin"},
        ),
        (
            "/api/v1/station-admins",
            lambda i: {
                "name": "乙",
                "mobile": f"09220005{i:02d}",
                "national_id": _national_id(f"K1000000{i}"),
                "station_id": ids["station"],
            },
            {"super_admin", "general_admin_queries"},
        ),
        (
            "/api/v1/stations/{station}/officers",
            lambda i: {"name": "丙", "officer_number": f"X-{i}", "mobile": f"09550005{i:02d}"},
            {"super_admin", "general_admin_queries", "station_admin"},
        ),
        (
            "/api/v1/enterprises/{enterprise}/employees",
            lambda i: {
                "name": "丁",
                "mobile": f"09120005{i:02d}",
                "national_id": _national_id(f"M2000000{i}"),
            },
            {"super_admin", "enterprise_admin"},
        ),
        (
            "/api/v1/organisations/{enterprise}/venues",
            lambda i: {"names": [f"門{i}"], "address": "台北市"},
            {"super_admin", "enterprise_admin"},
        ),
    ]
    failures = []
    for template, body, allowed in writes:
        path = template.format(**ids)
        for i, role in enumerate(ROLES):
            r = client.post(path, json=body(i), headers=bearer(world["tokens"][role]))
            if (r.status_code == 201) != (role in allowed):
                failures.append(f"POST {path} as {role}: {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)
    sup = bearer(world["tokens"]["super_admin"])
    counts = {
        "admins": len(client.get("/api/v1/admins", headers=sup).json()),
        "officers": len(client.get(f"/api/v1/stations/{ids['station']}/officers", headers=sup).json()),
        "employees": len(
            client.get(f"/api/v1/enterprises/{ids['enterprise']}/employees", headers=sup).json()
        ),
        "venues": len(client.get(f"/api/v1/organisations/{ids['enterprise']}/venues", headers=sup).json()),
    }
    # world made 3 console admins, 1 officer, 1 employee; the matrix added one per allowed role.
    assert counts == {"admins": 4, "officers": 4, "employees": 3, "venues": 2}
