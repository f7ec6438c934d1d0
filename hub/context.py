"""What services need besides a Session (settings, secrets, SMS, keys), carried on the Session itself.

The app factory and the CLI build one HubContext and put it in `sessionmaker(info={"hub": ctx})`, so a
service called as `request_code(db, ...)` reaches the same settings wherever it runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.core.config import Settings
from hub.core.keystore import HubKeyStore, open_keystore
from hub.core.protection import Protector, load_or_create_secret


@dataclass
class HubContext:
    settings: Settings
    protector: Protector
    _sms: Any = None
    _keystore: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings, *, create_secret: bool = False) -> HubContext:
        secret = load_or_create_secret(settings, create=create_secret)
        return cls(settings=settings, protector=Protector.from_secret(secret))

    @property
    def sms(self) -> Any:
        """The SMS gateway (hub.sms), built on first use."""
        with self._lock:
            if self._sms is None:
                from hub.metrics import CountingGateway  # sent/refused/failed per gateway at /metrics
                from hub.sms import gateway_from_settings

                gateway = gateway_from_settings(self.settings.sms_gateway, **self.settings.sms_options())
                self._sms = CountingGateway(gateway, self.settings.sms_gateway)
            return self._sms

    @property
    def root_offline(self) -> bool:
        """True when the hub must not touch a root private key (hub.services.trust): configured so, or
        the keys directory simply has none (only root.pub, the production layout). Checked on each
        call, so removing root.key from a running hub takes effect at once."""
        return self.settings.root_offline or not (self.settings.keys_dir / "root.key").exists()

    @property
    def keystore(self) -> HubKeyStore:
        """The KeyStore, opened once: decrypting keys costs an argon2id derivation each."""
        with self._lock:
            if self._keystore is None:
                self._keystore = open_keystore(self.settings)
            return self._keystore


def context_of(db: Session) -> HubContext:
    ctx = db.info.get("hub")
    if ctx is None:
        raise RuntimeError("session was not made by hub.context.make_sessionmaker")
    return ctx


def make_sessionmaker(engine: Engine, ctx: HubContext) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, info={"hub": ctx})
