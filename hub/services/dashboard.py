"""What the console's dashboard shows at a glance, counted in the database and limited to what the caller
may see: hub admins everything, a station admin its own station, an enterprise admin its own passes."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.core.clock import TAIPEI, as_utc, in_taipei
from hub.db import utcnow
from hub.models.identity import Role, User
from hub.models.organisations import Organisation
from hub.models.passes import Pass
from hub.services.devices.device_report import QUIET_AFTER, is_quiet
from hub.services.scope import is_hub_admin
from hub.services.trust import TrustHealth, trust_health

STALE_AFTER = QUIET_AFTER  # "devices not synced for > 1 h": the devices page's rule, not a second copy
CHART_STATIONS = 7
OTHER_STATIONS = "其他分局"


@dataclass(frozen=True)
class StaleDevice:
    device_id: str
    name: str
    station: str | None
    last_sync: dt.datetime | None
    queue_waiting: int | None = None  # as the device last reported its upload queue
    queue_oldest_age_s: int | None = None


@dataclass(frozen=True)
class Dashboard:
    hours: list[dt.datetime]  # the last 24 whole hours, Taipei time, oldest first
    checks_per_hour: dict[str, list[int]]  # station name -> a count per hour in `hours`
    verdicts: dict[str, int]  # "ok" or the refusal reason -> count, last 24 h
    stale_devices: list[StaleDevice]
    trust: TrustHealth | None
    days: list[dt.date]  # the last 14 days, Taipei time, oldest first
    passes_per_day: list[int]
    shows_checks: bool
    no_organisation: bool = False  # an organisation role with no organisation: nothing is theirs to see


def _station_scope(user: User) -> int | None | bool:
    """None: every station; an id: that station; False: no checks at all (enterprise admins)."""
    if is_hub_admin(user):
        return None
    if Role(user.role) is Role.STATION_ADMIN:
        # A station admin imported without a station reaches no station's checks (never every one).
        return False if user.org_id is None else user.org_id
    return False


def dashboard(db: Session, user: User, now: dt.datetime | None = None) -> Dashboard:
    now = now or utcnow()
    local_now = now.astimezone(TAIPEI).replace(minute=0, second=0, microsecond=0)
    hours = [local_now - dt.timedelta(hours=23 - i) for i in range(24)]
    since = hours[0].astimezone(dt.UTC)
    station = _station_scope(user)
    checks: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    verdicts: Counter[str] = Counter()
    stale: list[StaleDevice] = []
    if station is not False:
        checks, verdicts, stale = _checks(db, station, since, now, hours)

    today = now.astimezone(TAIPEI).date()
    days = [today - dt.timedelta(days=13 - i) for i in range(14)]
    start = dt.datetime.combine(days[0], dt.time(), TAIPEI).astimezone(dt.UTC)
    query = select(Pass.issued_at).where(Pass.issued_at >= start)
    if not is_hub_admin(user):
        if Role(user.role) is not Role.ENTERPRISE_ADMIN:
            query = query.where(False)
        query = query.where(Pass.org_id == user.org_id)
    per_day: Counter[dt.date] = Counter(in_taipei(as_utc(at)).date() for at in db.scalars(query))
    return Dashboard(
        hours=hours,
        checks_per_hour=dict(sorted(checks.items())),
        verdicts=dict(verdicts.most_common()),
        stale_devices=stale,
        trust=_trust(db) if is_hub_admin(user) or station is not False else None,
        days=days,
        passes_per_day=[per_day.get(day, 0) for day in days],
        shows_checks=station is not False,
        no_organisation=not is_hub_admin(user) and user.org_id is None,
    )


def _trust(db: Session) -> TrustHealth | None:
    """None when the hub has no key store yet (a fresh install): the page says so instead of failing."""
    from provisioning.keystore import KeyStoreError

    try:
        return trust_health(db)
    except KeyStoreError:
        return None


def _utc_hour(db: Session, column: Any) -> Any:
    """'YYYY-MM-DD HH' of a UTC timestamp column, in the database's own dialect."""
    if db.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    # SQLite keeps UTC as naive text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's format): its first 13
    # characters are the hour, cheaper than strftime over a day of rows.
    return func.substr(column, 1, 13)


def _checks(
    db: Session, station: int | None, since: dt.datetime, now: dt.datetime, hours: list[dt.datetime]
) -> tuple[dict[str, list[int]], Counter[str], list[StaleDevice]]:
    from hub.models.devices import Device, Scan

    devices_query = (
        select(
            Device.id,
            Device.name,
            Organisation.name,
            Device.revoked_at,
            Device.last_sync_at,
            Device.queue_waiting,
            Device.queue_oldest_age_s,
        )
        .outerjoin(Organisation, Organisation.id == Device.station_id)
        .order_by(Device.name)
    )
    if station is not None:
        devices_query = devices_query.where(Device.station_id == station)
    devices = db.execute(devices_query).all()
    station_of = {row[0]: row[2] or "-" for row in devices}
    stale = [
        StaleDevice(device_id, name, station_name, last, waiting, oldest)
        for device_id, name, station_name, revoked_at, last, waiting, oldest in devices
        if is_quiet(revoked_at, last, now)
    ]

    # Counted in the database per device and UTC hour (Taiwan has no summer time, so a UTC hour is a
    # Taipei hour), then summed per station here: a day of checks is thousands of rows that need not
    # travel to Python, and no join is needed for the count.
    hour = _utc_hour(db, Scan.scanned_at)
    window = [Scan.scanned_at >= since, Scan.scanned_at <= now]
    if station is not None:
        window.append(Scan.device_id.in_(list(station_of)))
    slot = {h.astimezone(dt.UTC).strftime("%Y-%m-%d %H"): i for i, h in enumerate(hours)}
    checks: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    per_hour = select(Scan.device_id, hour, func.count()).where(*window).group_by(Scan.device_id, hour)
    for device_id, bucket, count in db.execute(per_hour):
        if bucket in slot:
            checks[station_of.get(device_id, "-")][slot[bucket]] += count
    if len(checks) > CHART_STATIONS:  # a chart read at a glance: the busiest stations, the rest summed
        ranked = sorted(checks, key=lambda n: -sum(checks[n]))
        rest = [sum(column) for column in zip(*(checks[n] for n in ranked[CHART_STATIONS:]), strict=True)]
        checks = defaultdict(lambda: [0] * 24, {n: checks[n] for n in ranked[:CHART_STATIONS]})
        checks[OTHER_STATIONS] = rest
    verdicts: Counter[str] = Counter()
    mix = select(Scan.ok, Scan.reason, func.count()).where(*window).group_by(Scan.ok, Scan.reason)
    for ok, reason, count in db.execute(mix):
        verdicts["ok" if ok else reason] += count
    return checks, verdicts, stale
