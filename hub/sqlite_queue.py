"""SQLite's writers wait in a queue, not in a poll.

SQLite lets one transaction write at a time. A writer that finds the lock taken sleeps in SQLite's busy
handler in growing steps (1, 2, 5 … up to 100 ms) and tries again, so under a steady stream of short
write transactions from several threads and processes a writer can miss the lock over and over while
the lock itself is free much of the time. Under bench/line.py (two processes, 200 LINE events/s, three
short write transactions an event) statements waited 120 ms on average that way, and the threads asleep
in the busy handler starved the thread pool that everything else waited on: the latency tail of the
LINE entry (docs/line.md).

A connection of this class takes the database's writer queue just before the statement that opens its
write transaction (what the sqlite3 module opens one for: INSERT, UPDATE, DELETE, REPLACE, or an
explicit BEGIN IMMEDIATE/EXCLUSIVE) and lets go of it when the transaction ends. The queue is a lock per
process (threads wait on it and are woken when it is free; it gives up after the busy timeout, with the
error SQLite would give) in front of an exclusive `flock` on a file next to the database (processes wait
on it in the kernel, woken when it is released). Readers never queue (WAL: they do not wait for writers).

A thread that already holds the queue through another connection (a document stored in a session of its
own in the middle of a command, hub/jobs/publish.py) does not queue again: it would wait for itself. Its
second writer meets SQLite's own lock and busy handler, as without the queue. Programs outside the hub
(the sqlite3 shell, a backup) do not queue either; the hub's writers then wait for them in SQLite's busy
handler, as before.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

# What the sqlite3 module opens a transaction for (CPython's is_dml: the statement's first word), and the
# explicit ways to open a writing one.
_WRITES = ("insert", "update", "delete", "replace", "begin immediate", "begin exclusive")


def _opens_write(sql: str) -> bool:
    return sql.lstrip()[:16].lower().startswith(_WRITES)


class _Queue:
    """One database's writer queue in this process."""

    def __init__(self, path: str) -> None:
        self.turn = threading.Lock()
        self.fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)

    def enter(self, timeout: float) -> None:
        if not self.turn.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.turn.release()
            raise

    def leave(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.turn.release()


_queues: dict[str, _Queue] = {}
_queues_lock = threading.Lock()
_threads = threading.local()


def _queue(path: str) -> _Queue:
    with _queues_lock:
        if path not in _queues:
            _queues[path] = _Queue(path)
        return _queues[path]


def _forget_after_fork() -> None:
    """A forked child shares its parent's open file (and so its flock): it opens its own."""
    global _queues_lock
    for queue in _queues.values():
        os.close(queue.fd)
    _queues.clear()
    _queues_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _held_here() -> list[int]:
    """How many queues this thread holds now (a list, so the connection can give its turn back from
    another thread)."""
    held = getattr(_threads, "held", None)
    if held is None:
        held = _threads.held = [0]
    return held


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.connection._before(sql)  # type: ignore[attr-defined]
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        self.connection._before(sql)  # type: ignore[attr-defined]
        return super().executemany(sql, parameters)


class QueuedWriters(sqlite3.Connection):
    """A sqlite3 connection whose write transactions wait in the database's writer queue (module notes).
    `sqlite3.connect(path, factory=QueuedWriters, timeout=…)`."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._timeout = float(kwargs.get("timeout", args[0] if args else 5.0))
        self._path = os.fspath(database) + "-writers"
        # while a write transaction is open: the queue it entered and the counter of the thread that
        # took the turn (the turn is given back to that queue, from whichever thread ends the transaction)
        self._turn: tuple[_Queue, list[int]] | None = None

    def cursor(self, factory: Any = _Cursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    # sqlite3's own shortcuts make their cursor without `cursor()` (hub/services/unit_of_work.py uses one)
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, parameters)

    def _before(self, sql: str) -> None:
        if self._turn is not None and not self.in_transaction:
            self._leave()  # a transaction that ended without commit or rollback (a failed BEGIN)
        if self._turn is None and not self.in_transaction and _opens_write(sql):
            held = _held_here()
            if held[0]:
                return  # this thread's other connection holds the queue: see the module notes
            queue = _queue(self._path)
            queue.enter(self._timeout)
            held[0] += 1
            self._turn = (queue, held)

    def _leave(self) -> None:
        if self._turn is not None:
            queue, held = self._turn
            self._turn = None
            held[0] -= 1
            queue.leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()
