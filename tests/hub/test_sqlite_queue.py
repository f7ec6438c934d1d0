"""SQLite's writers wait in a queue (hub/sqlite_queue.py): a writer that finds another's write transaction
open waits for its end and goes on at once, across threads and processes; a writer that waits past its
busy timeout gets SQLite's own error; a thread never waits for itself."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hub.db import make_engine
from hub.sqlite_queue import QueuedWriters

HOLD_SECONDS = 0.6


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "hub.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (who TEXT)")
    return path


def _queued(path: Path, timeout: float) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=timeout, factory=QueuedWriters, check_same_thread=False)


# A writer in another process: opens its write transaction, says so, holds it, commits.
_OTHER_PROCESS = """
import sqlite3, sys, time
sys.path.insert(0, {root!r})
from hub.sqlite_queue import QueuedWriters
conn = sqlite3.connect({path!r}, timeout=0, factory=QueuedWriters)
conn.execute("INSERT INTO t VALUES ('other process')")
print("writing", flush=True)
time.sleep({hold})
conn.commit()
"""


def _other_process_writing(path: Path) -> subprocess.Popen[str]:
    code = _OTHER_PROCESS.format(
        root=str(Path(__file__).resolve().parents[2]), path=str(path), hold=HOLD_SECONDS
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "writing"
    return other


def test_a_writer_waits_for_another_process_s_transaction_instead_of_failing(tmp_path: Path) -> None:
    """No busy timeout at all (0): SQLite alone refuses at once; in the queue the writer waits for the
    other process's commit and then writes."""
    path = _database(tmp_path)
    other = _other_process_writing(path)
    try:
        plain = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            plain.execute("INSERT INTO t VALUES ('plain')")
        plain.close()
        conn = _queued(path, timeout=0)
        conn.execute("INSERT INTO t VALUES ('queued')")
        conn.commit()
    finally:
        assert other.wait(10) == 0
    rows = [r[0] for r in conn.execute("SELECT who FROM t ORDER BY rowid")]
    assert rows == ["other process", "queued"]  # it waited for the other's commit, then wrote
    conn.close()


def test_threads_of_one_process_take_turns_and_give_up_after_their_busy_timeout(tmp_path: Path) -> None:
    path = _database(tmp_path)
    first = _queued(path, timeout=10)
    first.execute("INSERT INTO t VALUES ('first')")  # its transaction is open: it holds the queue
    outcome: dict[str, object] = {}

    def write(name: str, timeout: float) -> None:
        conn = _queued(path, timeout=timeout)
        try:
            conn.execute("INSERT INTO t VALUES (?)", (name,))
            conn.commit()
            outcome[name] = "written"
        except sqlite3.OperationalError as error:
            outcome[name] = str(error)
        finally:
            conn.close()

    impatient = threading.Thread(target=write, args=("impatient", 0.2))
    patient = threading.Thread(target=write, args=("patient", 10))
    impatient.start()
    patient.start()
    impatient.join(5)
    assert outcome == {"impatient": "database is locked"}  # as SQLite says it past busy_timeout
    time.sleep(0.1)
    assert "patient" not in outcome  # still waiting for the first
    first.commit()  # the turn passes on: given back by another thread than the one that took it is fine
    patient.join(5)
    assert outcome["patient"] == "written"
    assert [r[0] for r in first.execute("SELECT who FROM t ORDER BY rowid")] == ["first", "patient"]
    first.close()


def test_a_rollback_and_a_closed_connection_give_the_turn_back(tmp_path: Path) -> None:
    path = _database(tmp_path)
    a = _queued(path, timeout=0)
    a.execute("INSERT INTO t VALUES ('rolled back')")
    a.rollback()
    b = _queued(path, timeout=0)
    b.execute("INSERT INTO t VALUES ('closed')")
    b.close()  # mid-transaction: SQLite rolls it back, the queue moves on
    c = _queued(path, timeout=0)
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t VALUES ('kept')")
    c.commit()
    assert [r[0] for r in a.execute("SELECT who FROM t")] == ["kept"]
    a.close()
    c.close()


def test_a_thread_writing_through_a_second_connection_does_not_wait_for_itself(tmp_path: Path) -> None:
    """A thread holding the queue through one connection that writes through another (hub/jobs/publish.py
    stores documents in a session of its own) meets SQLite's lock and its busy timeout, as without the
    queue: an error after the timeout, never a thread hung on itself."""
    path = _database(tmp_path)
    outer = _queued(path, timeout=0.2)
    outer.execute("INSERT INTO t VALUES ('outer')")
    inner = _queued(path, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        inner.execute("INSERT INTO t VALUES ('inner')")
    assert time.monotonic() - started < 5
    inner.rollback()
    outer.commit()
    inner.execute("INSERT INTO t VALUES ('inner, after')")
    inner.commit()
    assert [r[0] for r in outer.execute("SELECT who FROM t ORDER BY rowid")] == ["outer", "inner, after"]
    outer.close()
    inner.close()


def test_the_hub_s_engine_queues_its_file_databases_writers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    with engine.connect() as conn:
        assert isinstance(conn.connection.driver_connection, QueuedWriters)
    engine.dispose()
    memory = make_engine("sqlite://")
    with memory.connect() as conn:
        assert not isinstance(conn.connection.driver_connection, QueuedWriters)
    memory.dispose()
