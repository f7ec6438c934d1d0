"""crypto.verify over the trust data cached in the store.

The parsed bundle and status lists are held in memory (a verdict must not wait for SQLite or a
signature check of the bundle) and swapped in one assignment when sync stores new data, so the
scanning thread always sees a consistent pair.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from checkpoint_app.store import Store
from crypto.errors import CryptoError
from crypto.status import StatusList
from crypto.trust import IssuerKeyInfo, TrustBundle, load_trust_bundle
from crypto.verify import Verdict, verify


class Verifier:
    def __init__(self, store: Store, *, accept_stale: bool) -> None:
        self.store = store
        self.accept_stale = accept_stale
        self._lock = threading.Lock()
        self._data: tuple[TrustBundle | None, Mapping[bytes, StatusList]] = (None, {})
        self.reload()

    def reload(self) -> None:
        """Re-read trust data from the store. A bundle that no longer verifies is dropped, not trusted."""
        device = self.store.device()
        bundle: TrustBundle | None = None
        row = self.store.trust_row()
        if device is not None and row is not None:
            try:
                bundle = load_trust_bundle(row["bundle"], device.root_public_key)
            except CryptoError:
                bundle = None
        status: dict[bytes, StatusList] = {}
        for kid_hex, r in self.store.status_rows().items():
            kid = bytes.fromhex(kid_hex)
            status[kid] = StatusList(issuer_kid=kid, counter=r.counter, size=r.size, bits=bytearray(r.bits))
        with self._lock:
            self._data = (bundle, status)

    @property
    def trust(self) -> TrustBundle | None:
        return self._data[0]

    @property
    def status_lists(self) -> Mapping[bytes, StatusList]:
        return self._data[1]

    def issuer_keys(self, kid: bytes) -> list[IssuerKeyInfo]:
        bundle = self._data[0]
        return bundle.keys_for(kid) if bundle is not None else []

    def verdict_time(self, wall: float) -> int:
        """The time a pass is judged at: the wall clock, but never earlier than the root-signed
        bundle's hub_time. Setting the phone's clock back therefore cannot revive a pass that had
        expired when the bundle was made. (The hub's unsigned server_time only orders events.)"""
        bundle = self._data[0]
        return max(int(wall), bundle.hub_time) if bundle is not None else int(wall)

    def check(self, text: str, now: int) -> Verdict:
        bundle, status = self._data
        return verify(text, bundle, status, now, accept_stale=self.accept_stale)
