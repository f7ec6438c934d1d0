"""The signed public documents as files for nginx (HUB_PUBLIC_DIR; docs/deploy.md, "Public documents
as files").

Layout: `<dir>/trust/bundle` and `<dir>/trust/status/<kid>`, each exactly the bytes that
GET /api/v1/trust/bundle and a full GET /api/v1/trust/status/<kid> answer (deploy/nginx/checkpass.conf
serves them; without a file, or without nginx, the hub answers as before).

nginx answers a conditional GET from the file's ETag, which it makes of the modification time (whole
seconds) and the size. Two versions of a status list have the same size and two revocations can fall
in one second, so every rewrite moves the mtime past the old file's (`max(now, old + 1)`): each version
has its own ETag, and a checkpoint holding an older one never gets a 304 for the newer file.

A revocation must reach checkpoints, so a file must never stay behind the database:

* `sync` takes an exclusive lock on `<dir>/.lock` and only then reads what the database says, then
  writes (temporary file, rename). Whoever writes last wrote the newest committed state: a slow writer
  can never put an older list back over a newer one.
* The process that commits a change (a revocation, a key rotation or compromise, a bundle import)
  syncs right after its commit (`after_commit`). If that fails, it removes the files, so nginx sends
  checkpoints to the hub, which reads the database.
* The publish job (hub.jobs.runner, every HUB_TRUST_PUBLISH_SECONDS) syncs too: that interval bounds
  the lag of a change no process synced (a crash between commit and write, a CLI run without
  HUB_PUBLIC_DIR, a key file changed by hand) and of the bundle's re-signing at half its validity.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.jobs import publish
from hub.services.errors import DomainError

log = logging.getLogger(__name__)

BUNDLE_FILE = Path("trust/bundle")
STATUS_DIR = Path("trust/status")


def public_dir(db: Session) -> Path | None:
    return context_of(db).settings.public_dir


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield


def _documents(db: Session) -> dict[Path, bytes]:
    """What the hub serves now, by file: the bundle (unless an offline-root hub has none yet) and the
    full status list of every listed issuer key. A document that cannot be had is left out (its file
    removed): then nginx asks the hub, which answers it or says why not."""
    documents: dict[Path, bytes] = {}
    try:
        documents[BUNDLE_FILE] = publish.trust_bundle(db)[0]
    except DomainError:
        pass  # an offline-root hub before its first import: the hub says so itself
    except Exception:
        log.exception("trust bundle not written as a file; the hub serves it")
    counters = publish.counters(db)
    for kid in sorted(publish.key_list(db).kids):
        kid_hex = kid.hex()
        try:
            body, _ = publish.served_status_list(db, kid_hex, counters.get(kid_hex, 0))
        except Exception:
            log.exception("status list %s not written as a file; the hub serves it", kid_hex)
            continue
        documents[STATUS_DIR / kid_hex] = body
    return documents


def _write(path: Path, body: bytes) -> bool:
    """Replace `path` with `body` unless it holds it already; True if it was rewritten."""
    try:
        old_mtime = int(path.stat().st_mtime)
        if path.read_bytes() == body:
            return False
    except FileNotFoundError:
        old_mtime = 0
    mtime = max(int(time.time()), old_mtime + 1)  # a new ETag for nginx, even within one second
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)  # public documents: nginx's user reads them
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)
    return True


def _files(directory: Path) -> list[Path]:
    found = [BUNDLE_FILE] if (directory / BUNDLE_FILE).exists() else []
    status = directory / STATUS_DIR
    if status.is_dir():
        found += [STATUS_DIR / p.name for p in status.iterdir() if not p.name.startswith(".")]
    return found


def sync(db: Session) -> list[str]:
    """Make the files say what the database says now; returns the files rewritten or removed."""
    directory = public_dir(db)
    if directory is None:
        return []
    (directory / STATUS_DIR).mkdir(parents=True, exist_ok=True)
    changed = []
    with _locked(directory), Session(bind=db.get_bind(), info=db.info) as own:
        documents = _documents(own)  # read under the lock: see the module docstring
        own.rollback()
        for name, body in documents.items():
            if _write(directory / name, body):
                changed.append(str(name))
        for name in _files(directory):
            if name not in documents:
                (directory / name).unlink(missing_ok=True)
                changed.append(str(name))
    return changed


def withdraw(directory: Path) -> None:
    """Remove every document file: nginx then asks the hub, which is never behind the database."""
    for name in _files(directory):
        (directory / name).unlink(missing_ok=True)


_pending: weakref.WeakSet[Session] = weakref.WeakSet()


def after_commit(db: Session) -> None:
    """Sync the files once `db`'s transaction commits (nothing if it rolls back): called by every
    command that changes a public document."""
    if public_dir(db) is None:
        return
    _pending.add(db)
    if not event.contains(db, "after_commit", _committed):
        event.listen(db, "after_commit", _committed)
        event.listen(db, "after_rollback", _rolled_back)


def _rolled_back(db: Session) -> None:
    _pending.discard(db)


def _committed(db: Session) -> None:
    if db not in _pending:
        return
    _pending.discard(db)
    directory = public_dir(db)
    assert directory is not None
    try:
        changed = sync(db)
        log.info("public documents rewritten: %s", ", ".join(changed) or "none")
    except Exception:
        # The change is committed; a file saying otherwise must not answer checkpoints meanwhile.
        log.exception("public documents not rewritten; withdrawn so the hub answers")
        try:
            withdraw(directory)
        except OSError:
            log.exception("public documents could not be withdrawn; the publish job retries")
