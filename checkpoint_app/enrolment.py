"""Device enrolment: read the hub's enrolment QR, make the device key, register, pin the root key.

The root public key is pinned from the QR (seen physically at the hub's console), not from the
network answer: a hub that answers with a different root key is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from checkpoint_app.errors import AlreadyEnrolledError, EnrolmentError
from checkpoint_app.hubclient import HubClient, HubHTTPError
from checkpoint_app.store import Store
from crypto.enrolment import ENROLMENT_PREFIX
from crypto.keys import KeyPair, kid_of


@dataclass(frozen=True)
class EnrolmentInfo:
    hub: str
    token: str
    root_public_key: bytes


def parse_enrolment_text(text: str) -> EnrolmentInfo:
    text = text.strip()
    if not text.startswith(ENROLMENT_PREFIX):
        raise EnrolmentError("enrol_not_code")
    encoded = text[len(ENROLMENT_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise EnrolmentError("enrol_damaged") from exc
    if not isinstance(data, dict):
        raise EnrolmentError("enrol_damaged")
    hub, token, root = data.get("hub"), data.get("token"), data.get("root_public_key")
    if not isinstance(hub, str) or urlparse(hub).scheme not in ("http", "https") or not urlparse(hub).netloc:
        raise EnrolmentError("enrol_no_hub")
    if not isinstance(token, str) or not token:
        raise EnrolmentError("enrol_no_token")
    try:
        root_key = base64.b64decode(root, validate=True) if isinstance(root, str) else b""
    except binascii.Error:
        root_key = b""
    if len(root_key) != 32:
        raise EnrolmentError("enrol_no_root")
    return EnrolmentInfo(hub=hub.rstrip("/"), token=token, root_public_key=root_key)


def enrol(store: Store, text: str, device_name: str, *, hub_url: str | None = None) -> str:
    """Register with the hub; returns the device id. Nothing is stored unless the hub accepted."""
    if store.device() is not None:
        raise AlreadyEnrolledError("enrol_already")
    info = parse_enrolment_text(text)
    base = (hub_url or info.hub).rstrip("/")
    key = KeyPair.from_seed(secrets.token_bytes(32))
    with HubClient(base) as client:
        try:
            answer = client.enrol(info.token, key.public_key, device_name)
        except HubHTTPError as exc:
            if exc.status_code in (400, 404, 410):
                raise EnrolmentError("enrol_refused") from exc
            raise
    device_id = answer.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise EnrolmentError("enrol_no_device_id")
    try:
        answered_root = base64.b64decode(str(answer.get("root_public_key", "")), validate=True)
    except binascii.Error:
        answered_root = b""
    if answered_root != info.root_public_key:
        raise EnrolmentError("enrol_root_mismatch")
    # Key first, then the device row: a crash in between leaves an un-enrolled device that
    # overwrites the key on the next try, never an enrolled device without its key.
    store.write_device_key(key.seed)
    store.save_device(device_id, device_name, base, info.root_public_key, kid_of(info.root_public_key).hex())
    return device_id


def device_key(store: Store) -> KeyPair:
    return KeyPair.from_seed(store.read_device_key_seed())
