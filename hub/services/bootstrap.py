"""First start of a hub (`checkpass hub init`): database, hub secret, keys, first super admins."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.core.config import Settings
from hub.models.identity import Role, User
from hub.services import audit, identity
from hub.services.errors import Invalid


def ensure_keys(settings: Settings) -> bool:
    """Initialise the KeyStore in `keys_dir` unless it already holds a root key. True if created."""
    from provisioning.keystore import KeyStore

    passphrase = settings.passphrase()
    if not passphrase:
        raise Invalid(reason="no_passphrase", detail="set HUB_KEY_PASSPHRASE or CHECKPASS_PASSPHRASE")
    keys_dir = Path(settings.keys_dir)
    store = KeyStore(keys_dir, passphrase)
    created = not (keys_dir / "root.key").exists()
    if created:
        keys_dir.mkdir(parents=True, exist_ok=True)
        store.init()
    else:
        store.active_issuer()  # proves the passphrase opens it
    # Serials and revocations of a hub live in its database: the offline `checkpass pass issue|revoke`
    # must refuse this store, or they would hand out serials the hub already used.
    store.mark_managed_by_hub()
    return created


def create_super_admin(db: Session, mobile_e164: str, name: str = "") -> tuple[User, bool]:
    """A super admin for `mobile_e164` with an initial password sent by SMS; existing ones are kept as
    they are (running init twice must not reset anybody's password). The caller commits."""
    existing = db.scalars(
        select(User).where(User.mobile == mobile_e164, User.role == Role.SUPER_ADMIN.value)
    ).first()
    if existing is not None:
        return existing, False
    user = User(mobile=mobile_e164, name=name, role=Role.SUPER_ADMIN.value, permissions=[])
    db.add(user)
    db.flush()
    identity.send_initial_password(db, user)
    audit.record(
        db,
        "admin.created",
        target=f"user:{user.id}",
        role=user.role,
        mobile=mask_mobile(mobile_e164),
        via="init",
    )
    return user, True
