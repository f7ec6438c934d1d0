"""A station's duty-officer whitelist (the city's 警局流程二): add, edit, delete, batch .xlsx — every
whitelist's handlers (`hub.api.routes._whitelists`) under the station's paths."""

from __future__ import annotations

from hub.api.routes._whitelists import Names, add_routes
from hub.api.routing import APIRouter
from hub.services.rosters import OFFICERS

router = APIRouter(tags=["duty officers"])

add_routes(
    router,
    OFFICERS,
    Names(
        base="stations",
        org="station_id",
        entry="officer_id",
        docs={
            "list_officers": "The duty whitelist; the station's own admins also get each mobile in clear, to "
            "correct it.",
            "import_officers": "Batch .xlsx: columns 姓名 / 警員編號 / 手機.\n\n    Any bad row refuses the "
            "whole file (422 with a per-row report).",
        },
    ),
)
