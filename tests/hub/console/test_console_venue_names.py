"""The console's venue-code application words the venue-name rules (hub.services.venues.check_names): a
name over 8 characters and a duplicate name are named, in zh-TW, and nothing is created."""

from __future__ import annotations

from sqlalchemy import select

from hub.models.venues import Venue
from tests.hub.console.test_console_queries import super_console  # noqa: F401  (fixture)


def test_venue_names_refused_in_words(super_console, hub, db):  # noqa: F811
    _token, org = hub.register_enterprise()
    page = f"/console/enterprises/{org['id']}"
    apply = f"{page}/venues"
    long_name = super_console.post(
        apply, {"names": "總部，一二三四五六七八九", "address": "新北市板橋區"}, token_from=page
    )
    assert long_name.status_code == 422
    assert "實聯碼名稱最多 8 個字：「一二三四五六七八九」有 9 個字" in long_name.text
    twice = super_console.post(apply, {"names": "門市,門市", "address": "新北市"}, token_from=page)
    assert twice.status_code == 409 and "實聯碼名稱「門市」重複" in twice.text
    assert "名單上已有相同的資料" not in twice.text
    db.expire_all()
    assert list(db.scalars(select(Venue))) == []
