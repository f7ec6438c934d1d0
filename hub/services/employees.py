"""An enterprise's employee whitelist (the people it vouches for: passes are issued to them), kept by
the enterprise's admin or a hub admin holding enterprises.manage (`enterprise_in_scope`).

The rules every whitelist shares are `hub.services.whitelist.Whitelist`'s; here is what is an employee's
own: the fields (name, mobile, national ID, the ID stored protected by `hub.services.people`), and what
follows a change — a new mobile moves the login account and ends its sessions, taking someone off
revokes their valid passes (docs/domain.md, "Passes follow the people").
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.fields import Mobile, NationalId, PersonName
from hub.core.masking import mask_mobile, mask_name
from hub.documents.spreadsheets import MOBILE, NAME, NATIONAL_ID
from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.models.rosters import Employee
from hub.services import passes, people
from hub.services.enterprise_scope import enterprise_in_scope
from hub.services.identity import revoke_all_tokens
from hub.services.scope import Scope
from hub.services.whitelist import EntryIn, Whitelist, patch_of


# The create model: REST's body, the console's and LIFF's forms, each import row. A field's second
# annotation is its import sheet column.
class EmployeeIn(EntryIn):
    name: Annotated[PersonName, NAME]
    mobile: Annotated[Mobile, MOBILE]
    national_id: Annotated[NationalId, NATIONAL_ID]


# The typed update: every field of EmployeeIn, optional.
EmployeePatch = patch_of(EmployeeIn, "EmployeePatch")


# What is shown of an employee, whoever asks: masked (no reader needs the entry in clear).
class EmployeeOut(BaseModel):
    id: int
    org_id: int
    name_masked: str
    mobile_masked: str
    national_id_masked: str | None

    @classmethod
    def of(cls, e: Employee, *, clear: bool = False) -> EmployeeOut:
        return cls(
            id=e.id,
            org_id=e.org_id,
            name_masked=mask_name(e.name),
            mobile_masked=mask_mobile(e.mobile),
            national_id_masked=e.national_id_masked,
        )


class Employees(Whitelist[Employee, EmployeeIn]):
    entry = Employee
    new = EmployeeIn
    patch = EmployeePatch
    public = EmployeeOut
    org_key = "org_id"
    thing = "employee"
    plural = "employees"
    who = "an employee"
    lock = "whitelist"
    sheet_name = "employees"
    unique = (("mobile", "mobile"), ("national_id", "national ID"))

    def keeper(self, db: Session, scope: Scope, org_id: int) -> Organisation:
        return enterprise_in_scope(db, scope, org_id)

    def stored(self, db: Session, entry: Employee, field: str, value: Any) -> None:
        if field == "national_id":
            people.set_national_id(db, entry, value)
        else:
            setattr(entry, field, value)

    def column(self, field: str) -> Any:
        return Employee.national_id_hash if field == "national_id" else getattr(Employee, field)

    def compared(self, db: Session, field: str, value: Any) -> Any:
        return people.national_id_hash(db, value) if field == "national_id" else value

    def current(self, entry: Employee, field: str) -> Any:
        return entry.national_id_hash or "" if field == "national_id" else getattr(entry, field)

    def follow(self, db: Session, entry: Employee, changes: dict[str, Any], old: dict[str, Any]) -> None:
        accounts = list(db.scalars(select(User).where(User.employee_id == entry.id)))
        if "name" in changes:
            for account in accounts:
                account.name = entry.name
        if "mobile" in changes and changes["mobile"] != old["mobile"]:
            # The login account moves to the new number and its sessions end: whoever holds the old
            # number is no longer this employee (officers and station admins are handled the same way).
            for account in accounts:
                account.mobile = entry.mobile
                revoke_all_tokens(db, account.id)

    def before_delete(self, db: Session, scope: Scope, entry: Employee) -> dict[str, Any]:
        """Their login account and its sessions go with them (ON DELETE CASCADE); their passes stay in
        the register (employee_id SET NULL) but are revoked: a pass follows the person, and the person is
        no longer the enterprise's."""
        revoked = passes.revoke_passes_of(db, scope, employee_id=entry.id, reason="employee removed")
        for user_id in db.scalars(select(User.id).where(User.employee_id == entry.id)):
            revoke_all_tokens(db, user_id)
        return {"passes_revoked": revoked}


EMPLOYEES = Employees()
