"""The REST API speaks UTC: every time it returns is ISO 8601 with an explicit UTC offset, never a bare
local-looking time (people's times are formatted in Taiwan time by the documents and the CLI)."""

from __future__ import annotations

import re
from typing import Any

from tests.hub.hubkit import bearer

_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_UTC = re.compile(r"(Z|\+00:00)$")


def _times(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _times(v)]
    if isinstance(value, list):
        return [t for v in value for t in _times(v)]
    return [value] if isinstance(value, str) and _ISO_TIME.match(value) else []


def test_api_times_are_utc_with_an_offset(hub, keys_dir) -> None:
    token, org = hub.register_enterprise()
    employee = {"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"}
    r = hub.client.post(f"/api/v1/enterprises/{org['id']}/employees", json=employee, headers=bearer(token))
    assert r.status_code == 201, r.text
    issued = hub.client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{r.json()['id']}/passes", json={}, headers=bearer(token)
    )
    assert issued.status_code == 201, issued.text
    bodies = [
        issued.json(),
        hub.client.get(f"/api/v1/enterprises/{org['id']}/passes", headers=bearer(token)).json(),
        hub.client.get(f"/api/v1/enterprises/{org['id']}/employees", headers=bearer(token)).json(),
    ]
    times = [t for body in bodies for t in _times(body)]
    assert times, bodies  # the pass has its validity window at least
    for value in times:
        assert _UTC.search(value), f"{value!r} has no UTC offset"
