"""Demo data for `make demo` / `checkpass hub demo`: one enterprise with employees and passes, one
police station with officers, one venue code, and an admin login.

The people are invented; national IDs are valid-checksum numbers made up for the demo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.config import Settings
from hub.db import utcnow
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.models.passes import Pass
from hub.models.rosters import Employee, Officer
from hub.models.venues import Venue
from hub.services import audit, identity, passes, people
from hub.services.venues import new_venue_code

DEMO_ADMIN_MOBILE = "+886911000000"
DEMO_ADMIN_PASSWORD = "demo-admin-2026"  # printed by `checkpass hub demo`; a demo hub is not a real one
DEMO_ENTERPRISE = ("艾斯移動股份有限公司", "28010606")
DEMO_ENTERPRISE_ADMIN = ("曾可愛", "+886933000001")
DEMO_EMPLOYEES = (
    ("陳大明", "+886912345678", "A123456789"),
    ("林美玲", "+886923456789", "B220386041"),
    ("歐陽志遠", "+886934567890", "F131234569"),
)
DEMO_STATION = "板橋分局"
DEMO_STATION_ADMIN = ("王警官", "+886955000001", "H123456786")
DEMO_OFFICERS = (("張志明", "NTP-0001", "+886955111222"), ("李文華", "NTP-0002", "+886955333444"))
DEMO_VENUE = "艾斯總部"


@dataclass
class DemoPass:
    pass_id: str
    holder_masked: str
    text: str


@dataclass
class DemoInfo:
    admin_mobile: str
    # None once someone changed the demo password: a rerun must not print a password that no longer works.
    admin_password: str | None
    enterprise_id: int
    station_id: int
    venue_code: str
    enterprise_admin_mobile: str
    station_admin_mobile: str
    officer_mobiles: list[str] = field(default_factory=list)
    passes: list[DemoPass] = field(default_factory=list)
    # Holders (masked) whose demo pass an administrator revoked: a rerun leaves them without one.
    revoked: list[str] = field(default_factory=list)


def seed_demo(db: Session, settings: Settings) -> DemoInfo:
    """Create the demo data, or return what an earlier run created (idempotent). Commits."""

    admin = db.scalars(
        select(User).where(User.mobile == DEMO_ADMIN_MOBILE, User.role == Role.SUPER_ADMIN.value)
    ).first()
    if admin is None:
        admin = User(
            mobile=DEMO_ADMIN_MOBILE,
            name="示範管理者",
            role=Role.SUPER_ADMIN.value,
            permissions=[],
            password_hash=identity.hash_password(DEMO_ADMIN_PASSWORD),
            must_change_password=False,
        )
        db.add(admin)
        db.flush()
        audit.record(db, "admin.created", target=f"user:{admin.id}", role=admin.role, via="demo")

    name, ubn = DEMO_ENTERPRISE
    org = db.scalars(
        select(Organisation).where(Organisation.kind == OrgKind.ENTERPRISE.value, Organisation.ubn == ubn)
    ).first()
    if org is None:
        org = Organisation(
            kind=OrgKind.ENTERPRISE.value,
            name=name,
            ubn=ubn,
            address="台北市大安區敦化南路二段76號5樓",
            contact_name=DEMO_ENTERPRISE_ADMIN[0],
            contact_phone=DEMO_ENTERPRISE_ADMIN[1],
        )
        db.add(org)
        db.flush()
        db.add(
            User(
                mobile=DEMO_ENTERPRISE_ADMIN[1],
                name=DEMO_ENTERPRISE_ADMIN[0],
                role=Role.ENTERPRISE_ADMIN.value,
                org_id=org.id,
                permissions=[],
            )
        )
        for emp_name, mobile, nid in DEMO_EMPLOYEES:
            employee = Employee(org_id=org.id, name=emp_name, mobile=mobile)
            people.set_national_id(db, employee, nid)
            db.add(employee)
        db.add(Venue(org_id=org.id, name=DEMO_VENUE, code=new_venue_code()))
        db.flush()

    station = db.scalars(
        select(Organisation).where(
            Organisation.kind == OrgKind.STATION.value, Organisation.name == DEMO_STATION
        )
    ).first()
    if station is None:
        station = Organisation(
            kind=OrgKind.STATION.value,
            name=DEMO_STATION,
            address="新北市板橋區漢生東路21號",
            contact_name="王警官",
            contact_phone=DEMO_STATION_ADMIN[1],
        )
        db.add(station)
        db.flush()
        sa_name, sa_mobile, sa_nid = DEMO_STATION_ADMIN
        station_admin = User(
            mobile=sa_mobile, name=sa_name, role=Role.STATION_ADMIN.value, org_id=station.id, permissions=[]
        )
        people.set_national_id(db, station_admin, sa_nid)
        db.add(station_admin)
        for off_name, number, mobile in DEMO_OFFICERS:
            db.add(Officer(station_id=station.id, name=off_name, officer_number=number, mobile=mobile))
        db.flush()

    for employee in db.scalars(select(Employee).where(Employee.org_id == org.id).order_by(Employee.id)):
        # A pass that has not expired, revoked or not, is the state someone chose: a revoked pass is
        # not re-issued behind the administrator's back. Only expired passes are renewed.
        current = db.scalars(
            select(Pass.id).where(Pass.employee_id == employee.id, Pass.expires_at > utcnow())
        ).first()
        if current is None:
            passes.sign_pass(
                db, org=org, employee=employee, actor=admin, not_before=utcnow() - dt.timedelta(minutes=5)
            )
    db.commit()

    venue = db.scalars(select(Venue).where(Venue.org_id == org.id).order_by(Venue.id)).first()
    assert venue is not None
    live = select(Pass).where(Pass.org_id == org.id, Pass.expires_at > utcnow()).order_by(Pass.id)
    # The holders as every front end shows them (PassOut: masked).
    shown = [passes.PassOut.of(p, text=p.text) for p in db.scalars(live)]
    demo_passes = [DemoPass(p.pass_id, p.holder_name_masked, p.text or "") for p in shown if not p.revoked]
    revoked = [p.holder_name_masked for p in shown if p.revoked]
    password_unchanged = identity.password_matches(admin.password_hash, DEMO_ADMIN_PASSWORD)
    return DemoInfo(
        admin_mobile=DEMO_ADMIN_MOBILE,
        admin_password=DEMO_ADMIN_PASSWORD if password_unchanged else None,
        enterprise_id=org.id,
        station_id=station.id,
        venue_code=venue.code,
        enterprise_admin_mobile=DEMO_ENTERPRISE_ADMIN[1],
        station_admin_mobile=DEMO_STATION_ADMIN[1],
        officer_mobiles=[m for _n, _num, m in DEMO_OFFICERS],
        passes=demo_passes,
        revoked=revoked,
    )
