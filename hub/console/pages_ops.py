"""Checkpoint devices (enrolment QR on screen, list with last sync, upload queue and app version, revoke)
and keys & trust (issuer keys with their states, trust health, rotation, marking a key compromised, the
offline root's bundle request and signed bundle).

Device rules (which station a station admin may touch) are the services'
(`hub.services.devices.enrolment`, with the caller's Scope, its input models for the form); keys and
trust are the super admin's, as in the REST API, through `hub.services.trust`.
"""

from __future__ import annotations

import base64
import datetime as dt

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from hub.console.web import (
    PREFIX,
    Form,
    Page,
    Refused,
    UserPage,
    confirm_first,
    field_text,
    needs,
    shows_refusals,
)
from hub.core.permissions import Permission
from hub.core.vocabulary import Role
from hub.services import errors as domain
from hub.services import keys, listings, trust
from hub.services.devices import enrolment
from hub.services.devices.device_report import is_quiet
from hub.services.devices.enrolment import EnrolmentTicket
from hub.web import client_ip

router = APIRouter()
DeviceManager = Depends(needs(Permission.DEVICES_MANAGE))


def _devices_page(page: Page, ticket: EnrolmentTicket | None = None) -> Response:
    assert page.user is not None
    devices = [enrolment.DeviceOut.of(d) for d in enrolment.list_devices(page.db, page.scope)]
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "device": d,
            "quiet": is_quiet(d.revoked_at, d.last_upload_at, now),
            "queue": page.queue_lag(d.queue_waiting, d.queue_oldest_age_s),
        }
        for d in devices
    ]
    stations = {s.id: s.name for s in listings.stations(page.db)} if page.scope.hub_wide else {}
    if not page.scope.hub_wide and page.user.org_id is not None and page.user.organisation is not None:
        stations = {page.user.org_id: page.user.organisation.name}
    qr = base64.b64encode(ticket.qr_png).decode() if ticket is not None else None  # shown as a data: URL
    return page.render(
        "devices.html",
        rows=rows,
        stations=stations,
        ticket=ticket,
        qr=qr,
    )


@router.get("/devices", response_class=HTMLResponse)
def devices_page(page: Page = DeviceManager) -> Response:
    return _devices_page(page)


@router.post("/devices/enrolment", response_class=HTMLResponse)
@shows_refusals(_devices_page)
def new_enrolment(form: Form, page: Page = DeviceManager) -> Response:
    assert page.user is not None
    station = field_text(form, "station_id", 12)
    body = enrolment.EnrolmentTokenIn(station_id=int(station) if station.isdigit() else None)
    ticket = enrolment.create_enrolment_token(page.db, page.scope, station_id=body.station_id)
    return _devices_page(page, ticket=ticket)


@router.post("/devices/{device_id}/revoke", response_class=HTMLResponse)
@shows_refusals(_devices_page)
def revoke_device(device_id: str, form: Form, page: Page = DeviceManager) -> Response:
    assert page.user is not None
    body = enrolment.RevokeIn(reason=field_text(form, "reason", 200) or None)
    enrolment.device_in_scope(page.db, page.scope, device_id)  # someone else's device: refused, not asked
    back = f"{PREFIX}/devices"
    asked = confirm_first(page, form, question=page.t("confirm.revoke_device"), back=back)
    if asked is not None:
        return asked
    enrolment.revoke_device(page.db, page.scope, device_id=device_id, reason=body.reason)
    return page.redirect(back, done="device_revoked")


# --- keys and trust -----------------------------------------------------------------------------------


def _super_admin(page: UserPage) -> Page:
    assert page.user is not None
    if Role(page.user.role) is not Role.SUPER_ADMIN:
        raise Refused(403, "error.forbidden")
    return page


SuperAdmin = Depends(_super_admin)


def _trust_page(page: Page) -> Response:
    from provisioning.keystore import KeyStoreError

    try:
        health = trust.trust_health(page.db)
        issuers = keys.keystore(page.db).issuers()
    except KeyStoreError:
        health, issuers = None, []
    return page.render(
        "trust.html",
        health=health,
        issuers=issuers,
        offline=page.request.app.state.context.root_offline,
    )


@router.get("/trust", response_class=HTMLResponse)
def trust_page(page: Page = SuperAdmin) -> Response:
    return _trust_page(page)  # what the last action did: Page.done_message


@router.post("/trust/rotate", response_class=HTMLResponse)
def rotate(form: Form, page: Page = SuperAdmin) -> Response:
    # Redirect, then show: the rotation is committed when this request's unit of work ends, and the
    # trust page may re-sign the bundle in a session of its own.
    back = f"{PREFIX}/trust"
    asked = confirm_first(page, form, question=page.t("confirm.rotate"), back=back)
    if asked is not None:
        return asked
    trust.rotate_issuer(page.db, actor=page.user, via="console")
    return page.redirect(back, done="rotated")


@router.post("/trust/keys/{kid}/compromised", response_class=HTMLResponse)
@shows_refusals(_trust_page)
def mark_compromised(kid: str, form: Form, page: Page = SuperAdmin) -> Response:
    """Refuse every pass the key signed (hub.services.trust.mark_compromised decides and audits)."""
    # Ask only what can be done: a blank reason or an offline root is the service's refusal at once.
    if field_text(form, "reason", 200) and not page.request.app.state.context.root_offline:
        trust.known_kid(page.db, kid[:32])
        question = page.t("confirm.compromised", kid=kid[:32])
        asked = confirm_first(page, form, question=question, back=f"{PREFIX}/trust")
        if asked is not None:
            return asked
    trust.mark_compromised(
        page.db, kid[:32], reason=field_text(form, "reason", 200), actor=page.user, via="console"
    )
    # Redirect, then show: the new bundle is signed by the next request once this one is committed.
    return page.redirect(f"{PREFIX}/trust", done="compromised")


@router.get("/trust/bundle-request")
def bundle_request(page: Page = SuperAdmin) -> Response:
    return Response(
        trust.bundle_request(page.db, None),
        media_type="application/cbor",
        headers={"Content-Disposition": 'attachment; filename="bundle-request.cbor"'},
    )


@router.post("/trust/bundle", response_class=HTMLResponse)
@shows_refusals(_trust_page)
async def upload_bundle(form: Form, page: Page = SuperAdmin) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise domain.Invalid("no file uploaded", field="file")
    data = await upload.read()
    trust.import_bundle(page.db, data, actor=page.user, client_ip=client_ip(page.request), via="console")
    return page.redirect(f"{PREFIX}/trust", done="imported")
