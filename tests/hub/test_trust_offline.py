"""The offline root: a hub without the root private key serves only bundles the operator signed offline.

Everything goes over real HTTP (the app's TestClient) on both databases; the offline machine is a
KeyStore directory of its own, and its side of the ceremony is `checkpass bundle sign`'s library calls
(the CLI itself is exercised in test_trust_cli.py).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from crypto.keys import KeyPair
from crypto.status import load_status_list
from crypto.trust import KeyState, TrustBundle, load_trust_bundle
from crypto.verify import Reason, verify
from hub.core.config import Settings
from hub.jobs.publish import BUNDLE_DOCUMENT
from hub.models.audit import AuditEvent
from hub.models.trust import SignedDocument
from hub.services import keys as hub_keys
from hub.services import trust
from provisioning.export import build_export, bundle_from_request, read_request
from provisioning.keystore import KeyStore
from tests.factories import make_pass
from tests.hub.hubkit import PASSPHRASE, Hub, bearer

DAY = 86_400


def forget_self_signed_bundle(hub: Hub) -> None:
    """The fixture's hub started with its root online, so its trust-publishing job may already have stored
    a bundle signed by that same root (still valid, rightly served). A hub set up offline has none yet."""
    hub.db.execute(delete(SignedDocument).where(SignedDocument.name == BUNDLE_DOCUMENT))
    hub.db.commit()


@pytest.fixture
def root_dir(hub: Hub, keys_dir: Path, tmp_path: Path) -> Path:
    """The offline machine's key store; the hub's keys directory keeps everything but root.key."""
    offline = tmp_path / "offline-machine"
    shutil.copytree(keys_dir, offline)
    (keys_dir / "root.key").unlink()
    forget_self_signed_bundle(hub)
    return offline


def sign_offline(root_dir: Path, request: bytes, *, now: int | None = None, valid_days: int = 7) -> bytes:
    """What `checkpass bundle sign` does on the offline machine."""
    root = KeyStore(root_dir, PASSPHRASE).root()
    stamp = int(time.time()) if now is None else now
    bundle = bundle_from_request(read_request(request), root, stamp, valid_days)
    return build_export(root, bundle, [])


def fetch_request(hub: Hub, token: str) -> bytes:
    response = hub.client.get("/api/v1/trust/bundle/request", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/cbor"
    return response.content


def put_bundle(hub: Hub, token: str, data: bytes) -> Any:
    return hub.client.put(
        "/api/v1/trust/bundle", content=data, headers={**bearer(token), "Content-Type": "application/cose"}
    )


def served_bundle(hub: Hub, root_public: bytes) -> TrustBundle:
    response = hub.client.get("/api/v1/trust/bundle")
    assert response.status_code == 200, response.text
    return load_trust_bundle(response.content, root_public)


def signed_pass(key: KeyPair, serial: int) -> str:
    now = int(time.time())
    return make_pass(key, serial=serial, now=now, not_before=now - 60, org_id="1", org_name="測試公司")


def issue_with_hub_key(hub: Hub) -> tuple[str, int]:
    """A pass signed as the hub signs them: its active issuer key, a serial from the database."""
    key = hub_keys.active_issuer(hub.db)
    serial = hub_keys.allocate_serial(hub.db, key.kid.hex())
    hub.db.commit()
    return signed_pass(key, serial), serial


def test_offline_hub_serves_only_an_imported_bundle(hub: Hub, root_dir: Path) -> None:
    token = hub.super_admin_token()
    root_public = KeyStore(root_dir, PASSPHRASE).root_public_key()

    missing = hub.client.get("/api/v1/trust/bundle")
    assert missing.status_code == 503 and missing.json()["error"] == "no_trust_bundle"
    health = hub.client.get("/api/v1/trust/health")
    assert health.status_code == 503 and health.json()["state"] == "missing"
    assert "checkpass hub bundle request" in health.json()["action"]
    # /healthz stays up (the hub itself works) but tells monitoring the bundle is missing.
    liveness = hub.client.get("/healthz")
    assert liveness.status_code == 200 and liveness.json()["trust"] == "missing"

    signed = sign_offline(root_dir, fetch_request(hub, token), valid_days=10)
    response = put_bundle(hub, token, signed)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] is True

    bundle = served_bundle(hub, root_public)
    active = hub_keys.active_issuer(hub.db).kid
    assert [(i.kid, i.state) for i in bundle.issuer_keys] == [(active, KeyState.ACTIVE)]
    # The ETag is the imported bundle's own issued_at, and an unchanged bundle costs a 304.
    etag = hub.client.get("/api/v1/trust/bundle").headers["ETag"]
    assert etag == f'"{bundle.issued_at}"'
    assert hub.client.get("/api/v1/trust/bundle", headers={"If-None-Match": etag}).status_code == 304

    health = hub.client.get("/api/v1/trust/health")
    assert health.status_code == 200
    body = health.json()
    assert body["root"] == "offline" and body["state"] == "ok" and body["action"] is None
    assert body["valid_until"] == bundle.valid_until
    assert 10 * DAY - 60 < body["expires_in_s"] <= 10 * DAY
    liveness = hub.client.get("/healthz").json()
    assert liveness["trust"] == "ok" and 10 * DAY - 60 < liveness["trust_expires_in_s"] <= 10 * DAY

    # The countdown an operator's monitoring sees as the bundle ages (10-day bundle: warned 2 days ahead).
    soon = trust.trust_health(hub.db, now=bundle.valid_until - 2 * DAY + 60)
    assert soon.state == "renew_soon" and soon.healthy and "expires" in (soon.action or "")
    assert trust.trust_health(hub.db, now=bundle.valid_until - 2 * DAY - 60).state == "ok"
    gone = trust.trust_health(hub.db, now=bundle.valid_until + 1)
    assert gone.state == "expired" and not gone.healthy and gone.expires_in_s == -1

    # The same file again is no change; the import was audited once.
    again = put_bundle(hub, token, signed)
    assert again.status_code == 200 and again.json()["imported"] is False
    events = hub.db.scalars(select(AuditEvent).where(AuditEvent.action == "trust.bundle_imported")).all()
    assert len(events) == 1 and events[0].details["via"] == "api"


def test_bad_imports_are_refused_and_change_nothing(hub: Hub, root_dir: Path, tmp_path: Path) -> None:
    token = hub.super_admin_token()
    root_public = KeyStore(root_dir, PASSPHRASE).root_public_key()
    now = int(time.time())
    request = fetch_request(hub, token)
    first = sign_offline(root_dir, request, now=now - 100)
    assert put_bundle(hub, token, first).status_code == 200
    served = hub.client.get("/api/v1/trust/bundle").content

    def refused(data: bytes, status: int, reason: str) -> None:
        response = put_bundle(hub, token, data)
        assert response.status_code == status, response.text
        assert response.json()["error"] == reason
        assert hub.client.get("/api/v1/trust/bundle").content == served

    # Signed by another root.
    stranger_dir = tmp_path / "stranger"
    KeyStore(stranger_dir, PASSPHRASE).init()
    stranger = KeyStore(stranger_dir, PASSPHRASE).root()
    foreign = dataclasses.replace(
        bundle_from_request(read_request(request), KeyStore(root_dir, PASSPHRASE).root(), now, 7),
        root_kid=stranger.kid,
    )
    refused(build_export(stranger, foreign, []), 422, "bad_bundle")
    refused(b"not a bundle at all", 422, "bad_bundle")
    # Past valid_until (signed 8 days ago for 7 days).
    refused(sign_offline(root_dir, request, now=now - 8 * DAY), 422, "bundle_expired")
    # Older than the served one.
    refused(sign_offline(root_dir, request, now=now - 200), 409, "bundle_not_newer")
    # Does not list the hub's signing key as active (the offline store rotated on its own).
    KeyStore(root_dir, PASSPHRASE).rotate()
    offline_store = KeyStore(root_dir, PASSPHRASE)
    refused(
        build_export(offline_store.root(), offline_store.trust_bundle(7), []), 409, "bundle_lacks_active_key"
    )
    # Status counters ahead of the hub's lists.
    req = read_request(request)
    ahead = dataclasses.replace(
        req, issuer_keys=tuple(dataclasses.replace(i, status_counter=5) for i in req.issuer_keys)
    )
    root = offline_store.root()
    refused(build_export(root, bundle_from_request(ahead, root, now, 7), []), 409, "bundle_counters_ahead")
    # Only a super admin may import.
    assert hub.client.put("/api/v1/trust/bundle", content=first).status_code == 401
    station = hub.create_station(token)
    station_token = hub.station_admin_token(token, station["id"])
    assert put_bundle(hub, station_token, first).status_code == 403
    assert hub.client.get("/api/v1/trust/bundle/request", headers=bearer(station_token)).status_code == 403

    assert load_trust_bundle(served, root_public).issued_at == now - 100
    imports = hub.db.scalars(select(AuditEvent).where(AuditEvent.action == "trust.bundle_imported")).all()
    assert len(imports) == 1


def test_older_counters_in_an_imported_bundle_never_refuse_a_valid_pass(hub: Hub, root_dir: Path) -> None:
    """The bundle's status counter is only a floor: a device's newer list satisfies it. (A counter
    above the device's list would make it answer NO_STATUS, which is why the import refuses that.)"""
    token = hub.super_admin_token()
    root_public = KeyStore(root_dir, PASSPHRASE).root_public_key()
    good, _ = issue_with_hub_key(hub)
    bad, bad_serial = issue_with_hub_key(hub)
    old_request = fetch_request(hub, token)  # counters at 0
    kid_hex = hub_keys.active_issuer(hub.db).kid.hex()
    trust.revoke_serial(hub.db, kid_hex, bad_serial)
    trust.revoke_serial(hub.db, kid_hex, 999)
    hub.db.commit()
    assert put_bundle(hub, token, sign_offline(root_dir, old_request)).status_code == 200

    # The device: bundle and status list over HTTP, then offline verification.
    bundle = served_bundle(hub, root_public)
    info = bundle.issuer_keys[0]
    status = hub.client.get(f"/api/v1/trust/status/{kid_hex}")
    status_list = load_status_list(status.content, info.public_key)
    assert info.status_counter == 0 < status_list.counter == 2
    now = int(time.time())
    lists = {info.kid: status_list}
    assert verify(good, bundle, lists, now).reason is Reason.VALID
    assert verify(bad, bundle, lists, now).reason is Reason.REVOKED
    # What a bundle with counters ahead of the device's list would have done:
    ahead = dataclasses.replace(bundle, issuer_keys=(dataclasses.replace(info, status_counter=3),))
    assert verify(good, ahead, lists, now).reason is Reason.NO_STATUS


def test_rotation_waits_for_the_offline_bundle(hub: Hub, root_dir: Path) -> None:
    token = hub.super_admin_token()
    root_public = KeyStore(root_dir, PASSPHRASE).root_public_key()
    assert (
        put_bundle(
            hub, token, sign_offline(root_dir, fetch_request(hub, token), now=int(time.time()) - 5)
        ).status_code
        == 200
    )
    old = hub_keys.active_issuer(hub.db)
    before_rotation, _ = issue_with_hub_key(hub)

    rotation = trust.rotate_issuer(hub.db, via="test")
    hub.db.commit()  # the test is the unit of work: services never commit
    assert rotation.pending and rotation.request is not None
    # Still signing with the old key, which is what the served bundle lists.
    assert hub_keys.active_issuer(hub.db).kid == old.kid
    health = hub.client.get("/api/v1/trust/health").json()
    assert health["pending_kid"] == rotation.new_kid and "waits for a bundle" in health["action"]
    # A second rotation before the ceremony is the same pending key, not another one.
    assert trust.rotate_issuer(hub.db, via="test").new_kid == rotation.new_kid
    hub.db.commit()

    request = read_request(rotation.request)
    assert [(i.kid.hex(), i.state) for i in request.issuer_keys] == [
        (old.kid.hex(), KeyState.ACTIVE),
        (rotation.new_kid, KeyState.ACTIVE),
    ]
    response = put_bundle(hub, token, sign_offline(root_dir, rotation.request))
    assert response.status_code == 200, response.text
    assert response.json()["activated_kid"] == rotation.new_kid

    new = hub_keys.active_issuer(hub.db)
    assert new.kid.hex() == rotation.new_kid
    after_rotation, _ = issue_with_hub_key(hub)
    bundle = served_bundle(hub, root_public)
    lists = {
        i.kid: load_status_list(hub.client.get(f"/api/v1/trust/status/{i.kid.hex()}").content, i.public_key)
        for i in bundle.issuer_keys
    }
    now = int(time.time())
    assert verify(before_rotation, bundle, lists, now).reason is Reason.VALID
    assert verify(after_rotation, bundle, lists, now).reason is Reason.VALID
    health = hub.client.get("/api/v1/trust/health").json()
    assert health["pending_kid"] is None
    # The served bundle still calls the old key active: the operator is told to sign the next one.
    assert f"retired issuer key {old.kid.hex()}" in health["action"]

    # The next request retires the old key from the moment the hub stopped using it.
    following = read_request(fetch_request(hub, token))
    states = {i.kid: (i.state, i.not_after) for i in following.issuer_keys}
    assert states[old.kid][0] is KeyState.RETIRED and states[old.kid][1] is not None
    assert states[new.kid] == (KeyState.ACTIVE, None)
    # A bundle that forgets the old key, or retires it before the hub stopped using it, would break
    # passes already handed out: refused.
    root = KeyStore(root_dir, PASSPHRASE).root()
    later = int(time.time()) + 1
    dropped = dataclasses.replace(
        following, issuer_keys=tuple(i for i in following.issuer_keys if i.kid != old.kid)
    )
    early = dataclasses.replace(
        following,
        issuer_keys=tuple(
            dataclasses.replace(i, not_after=i.not_after - 100) if i.kid == old.kid and i.not_after else i
            for i in following.issuer_keys
        ),
    )
    for request_, reason in ((dropped, "bundle_drops_key"), (early, "bundle_retires_key_early")):
        response = put_bundle(
            hub, token, build_export(root, bundle_from_request(request_, root, later, 7), [])
        )
        assert response.status_code == 409 and response.json()["error"] == reason, response.text
    time.sleep(1.1)  # a newer issued_at than the refused ones would have had
    assert put_bundle(hub, token, sign_offline(root_dir, fetch_request(hub, token))).status_code == 200
    bundle = served_bundle(hub, root_public)
    assert verify(before_rotation, bundle, lists, int(time.time())).reason is Reason.VALID
    assert hub.client.get("/api/v1/trust/health").json()["action"] is None  # nothing left to do


def test_root_offline_setting_never_opens_root_key(
    hub: Hub, keys_dir: Path, tmp_path: Path, settings: Settings
) -> None:
    """HUB_ROOT_OFFLINE=true with a root.key present: the hub must not open it (here it is garbage)."""
    root_dir = tmp_path / "offline-machine"
    shutil.copytree(keys_dir, root_dir)
    (keys_dir / "root.key").write_bytes(b"garbage: decrypting this would fail")
    settings.root_offline = True  # the object the app's context reads on each call
    forget_self_signed_bundle(hub)
    token = hub.super_admin_token()
    root_public = KeyStore(root_dir, PASSPHRASE).root_public_key()
    assert hub_keys.root_public_key(hub.db) == root_public
    assert hub.client.get("/api/v1/trust/bundle").status_code == 503
    assert put_bundle(hub, token, sign_offline(root_dir, fetch_request(hub, token))).status_code == 200
    assert served_bundle(hub, root_public).root_kid == KeyStore(root_dir, PASSPHRASE).root().kid


def test_online_hub_keeps_signing_itself_and_refuses_imports(hub: Hub, keys_dir: Path) -> None:
    token = hub.super_admin_token()
    root_public = KeyStore(keys_dir, PASSPHRASE).root_public_key()
    bundle = served_bundle(hub, root_public)
    assert bundle.valid_until - bundle.issued_at == 7 * DAY
    health = hub.client.get("/api/v1/trust/health").json()
    assert health["root"] == "online" and health["state"] == "ok"
    response = put_bundle(hub, token, hub.client.get("/api/v1/trust/bundle").content)
    assert response.status_code == 409 and response.json()["error"] == "root_online"
    rotation = trust.rotate_issuer(hub.db, via="test")
    hub.db.commit()
    assert not rotation.pending and hub_keys.active_issuer(hub.db).kid.hex() == rotation.new_kid
    assert rotation.new_kid in {i.kid.hex() for i in served_bundle(hub, root_public).issuer_keys}
