"""The LIFF registration and application forms' endpoints: enterprise registration (企業流程一), station
registration (申請警局, the police channel) and the venue-code application (實聯申請單). The registrations
bind the LINE user with the same SMS code that proves the admin's mobile, so there is no second code.

Every endpoint gets its caller, session and unit of work from `hub.line.liff_caller`; the rules are the
services' (`enterprises.register`, `stations.create_station`, `venues.apply_for_venues`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from hub.core.fields import Address, Mobile, OrgName, PersonName, Phone, VenueName
from hub.core.masking import mask_mobile
from hub.core.vocabulary import ChannelName, Role
from hub.line.liff_caller import LiffCall, LiffRefusal, TokenIn, liff
from hub.services import enterprises, otp, stations, venues
from hub.services.errors import Conflict, Invalid
from hub.services.line_bindings import accounts_of, bind, caller_of, station_admin_accounts, user_tag
from hub.services.scope import Scope

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.identity import User

router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)

# The SMS-code purpose of the station registration form: a code for it opens nothing else, and back.
STATION_REGISTRATION = "station_registration"

SixDigits = Annotated[str, Field(min_length=6, max_length=6)]


class RegistrationFormIn(TokenIn, enterprises.EnterpriseRegistrationForm):
    """The registration form's fields: checked when the code is asked for, before any SMS is sent."""


class RegistrationIn(TokenIn, enterprises.EnterpriseRegistration):
    code: SixDigits


class CodeRequestIn(TokenIn):
    mobile: Mobile


class StationRegistrationIn(TokenIn):
    """The city's station fields (警局實聯申請單: 分局名稱, 地址, 聯絡人, 聯絡電話) and the admin's mobile."""

    name: OrgName
    address: Address
    contact_name: PersonName
    contact_phone: Phone
    admin_mobile: Mobile
    code: SixDigits


class VenueApplicationIn(TokenIn):
    address: Address
    contact_name: PersonName
    contact_phone: Phone
    names: Annotated[list[VenueName], Field(min_length=1, max_length=20)]


def _show_menu(
    request: Request, background: BackgroundTasks, channel: ChannelName, user: str, role: str
) -> None:
    """Link the role's rich menu once the binding is committed (after the answer: a background task)."""
    line = request.app.state.line
    if line is not None:
        background.add_task(line.menus.show, channel, user, role)


# The page's answers to a registration, one state each (docs/line.md): bound (`liff.registered`), held
# for review (`liff.register.held_for_review`), refused.


def _registered(call: LiffCall, org_name: str) -> dict[str, Any]:
    return {"state": "bound", "organisation": org_name, "done": call.t("liff.registered")}


@router.post("/enterprise/register", status_code=201, response_model=None)
def register_enterprise(
    body: RegistrationIn,
    call: Annotated[LiffCall, liff(bound=False, channel=ChannelName.ENTERPRISE)],
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any] | JSONResponse:
    """The city's 企業流程一 in LIFF: the SMS code that registers the enterprise also binds this LINE user.

    Three answers, each its own page state: 201 `bound` (registered, this LINE user bound as its admin),
    202 `held_for_review` (the 統一編號 has an enterprise: nothing registered, nobody bound) and a
    refusal with its reason. A repeat of the request (a double tap) gets the first one's answer."""
    caller, _ = caller_of(call.db, ChannelName.ENTERPRISE, call.line_user_id)
    if caller is not None:
        admin = caller.account(Role.ENTERPRISE_ADMIN)
        if caller.mobile == body.admin_mobile and admin is not None and admin.organisation is not None:
            if admin.organisation.ubn == body.ubn:  # this registration, already done and bound
                return _registered(call, admin.organisation.name)
        raise LiffRefusal(409, "already_bound", call.t("liff.register.already_bound"))
    try:
        # the body is an EnterpriseRegistration (with the ID token besides): the service reads its fields
        result = enterprises.register(call.db, body, call.client_ip)
    except Invalid as exc:
        # the same form again with the code the first one used (a double tap): the first one's answer
        earlier = enterprises.earlier_registration(call.db, body) if exc.reason == "code_used" else None
        if earlier is None:
            raise
        result = earlier
    if not isinstance(result, enterprises.Registered):
        # the claim (stored with this request's unit of work) waits for a hub admin; nothing is bound
        return JSONResponse(
            {
                "state": "held_for_review",
                "error": "held_for_review",
                "message": call.t("liff.register.held_for_review"),
            },
            status_code=202,
        )
    if not result.repeat:  # a repeat's first request bound this LINE user already
        accounts = accounts_of(call.db, ChannelName.ENTERPRISE, body.admin_mobile)
        bound = bind(call.db, ChannelName.ENTERPRISE, call.line_user_id, body.admin_mobile, accounts)
        _show_menu(request, background, ChannelName.ENTERPRISE, call.line_user_id, bound.primary.role)
    return _registered(call, result.org.name)


@router.post("/enterprise/register/code", status_code=202)
def enterprise_registration_code(
    body: RegistrationFormIn, call: Annotated[LiffCall, liff(bound=False, channel=ChannelName.ENTERPRISE)]
) -> dict[str, Any]:
    """An SMS code for the enterprise registration form, sent only once the form's fields are valid: a
    統一編號 with a wrong check digit (or any other bad field) is named now, not after the person has
    waited for a code and typed it. Caps count per number, per client address and per LINE user, as for
    stations."""
    otp.request_code(
        call.db,
        body.admin_mobile,
        otp.Purpose.ENTERPRISE_REGISTRATION,
        call.client_ip,
        line_user=user_tag(call.line_user_id),
    )
    return {"sent_to": mask_mobile(body.admin_mobile)}


@router.post("/police/register/code", status_code=202)
def station_registration_code(
    body: CodeRequestIn, call: Annotated[LiffCall, liff(bound=False, channel=ChannelName.POLICE)]
) -> dict[str, Any]:
    """An SMS code for the station registration form. Sent to whatever mobile is typed (as for an
    enterprise's registration): whether the hub lists it as a station admin is said only once the code
    proves the mobile is the caller's, so the form cannot be used to probe who is a station admin. The
    caps count per number, per client address and per LINE user (hub.services.otp)."""
    otp.request_code(
        call.db, body.mobile, STATION_REGISTRATION, call.client_ip, line_user=user_tag(call.line_user_id)
    )
    return {"sent_to": mask_mobile(body.mobile)}


def _registering_admin(accounts: list[User]) -> User | None:
    """Of the mobile's station-admin accounts, the one without a station (else any: the service then
    says the station is registered)."""
    admins = [a for a in accounts if a.role == Role.STATION_ADMIN.value]
    return next((a for a in admins if a.org_id is None), admins[0] if admins else None)


@router.post("/police/register", status_code=201)
def register_station(
    body: StationRegistrationIn,
    call: Annotated[LiffCall, liff(bound=False, channel=ChannelName.POLICE)],
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """申請警局 in LIFF: a station admin the hub lists (imported by a hub admin, no station yet) registers
    the station with the city's fields; the SMS code to that admin's mobile also binds this LINE user."""
    db, user = call.db, call.line_user_id
    caller, _ = caller_of(db, ChannelName.POLICE, user)
    if caller is not None and caller.mobile != body.admin_mobile:
        raise LiffRefusal(409, "already_bound", call.t("liff.station.other_mobile"))
    if caller is not None and (done := _station_registered(call, caller.accounts, body.name)) is not None:
        return done  # this registration, already done and bound: the same answer (a repeat)
    try:
        otp.verify_code(db, body.admin_mobile, STATION_REGISTRATION, body.code)
    except Invalid as exc:
        # the same code again (a double tap): the first request's answer, if it registered this station
        done = None
        if exc.reason == "code_used" and otp.repeated_code(
            db, body.admin_mobile, STATION_REGISTRATION, body.code
        ):
            done = _station_registered(call, station_admin_accounts(db, body.admin_mobile), body.name)
        if done is None:
            raise
        return done
    admin = _registering_admin(station_admin_accounts(db, body.admin_mobile))
    if admin is None:
        raise LiffRefusal(403, "not_a_station_admin", call.t("liff.station.not_a_station_admin"))
    data = stations.StationIn(
        name=body.name, address=body.address, contact_name=body.contact_name, contact_phone=body.contact_phone
    )
    try:
        station = stations.create_station(db, Scope.of(admin, call.client_ip), data=data)
    except Conflict as exc:
        if exc.reason == "already_registered":
            own = admin.organisation.name if admin.organisation is not None else ""
            message = call.t("liff.station.already_registered", station=own)
            raise LiffRefusal(409, "already_registered", message) from None
        if exc.reason == "duplicate":
            raise LiffRefusal(409, "duplicate", call.t("liff.station.duplicate")) from None
        raise
    # Bound under the name the hub admin listed for this station admin: the chat's police binding is
    # a name and a mobile (hub.services.line_bindings.accounts_of), and the code has just proven the mobile.
    bound = bind(
        db,
        ChannelName.POLICE,
        user,
        body.admin_mobile,
        accounts_of(db, ChannelName.POLICE, body.admin_mobile, admin.name),
        name=admin.name,
    )
    _show_menu(request, background, ChannelName.POLICE, user, bound.primary.role)
    return {"state": "bound", "station": station.name, "done": call.t("liff.registered")}


def _station_registered(call: LiffCall, accounts: Sequence[User], name: str) -> dict[str, Any] | None:
    """The registration's answer if one of these station-admin accounts has a station of that name."""
    for account in accounts:
        org = account.organisation
        if account.role == Role.STATION_ADMIN.value and org is not None and org.name == name:
            return {"state": "bound", "station": org.name, "done": call.t("liff.registered")}
    return None


@router.post("/venues", status_code=201)
def apply_for_venues(
    body: VenueApplicationIn, call: Annotated[LiffCall, liff(Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN)]
) -> dict[str, Any]:
    """The city's 實聯申請單; the organisation is the caller's own (its name and 統一編號 as registered)."""
    _, created = venues.apply_for_venues(
        call.db,
        call.scope,
        org_id=call.org_id,
        names=list(body.names),
        address=body.address,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
    )
    return {
        "venues": [{"name": v.name, "code": v.code, "url": venues.venue_url(call.db, v)} for v in created]
    }
