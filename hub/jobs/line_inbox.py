"""The LINE webhook inbox: a webhook whose signature holds is stored here and answered 200 at once; the
inbox worker of every hub process handles the stored events and sends the answers (docs/line.md).

Why: handling an event and replying to it took the webhook request several database round trips and a
call to LINE, so a burst of webhooks was load shed (503) and, with LINE's redelivery off, a person's tap
was lost. Storing is one small insert; what a burst costs is then a queue in the database, worked off at
the speed the hub has, and nothing a webhook carried is lost once it is answered 200.

The rules the worker keeps, across processes and machines on one database:

* **Once per event.** (channel, webhookEventId) is unique: a redelivery of a stored event is not stored
  again. What the event changes is committed with its `line_events` row (unique too), and the messages
  to send wait there until LINE accepted them (hub/line/webhook.py).
* **One worker per row.** A worker takes rows by a lease (`lease_owner`, `lease_until`) with one
  conditional `UPDATE`: on PostgreSQL its candidate rows are picked `FOR UPDATE SKIP LOCKED`, so two
  workers never wait for each other; on SQLite the statement runs under the database's single write
  lock. The handling transaction first checks (and locks) that the row is still the worker's; a worker
  whose lease ran out and was taken over stops there. A worker that dies leaves its rows to the next
  one once the lease ends (`lease_seconds`).
* **In order per LINE user.** Only a user's oldest pending row can be taken, so a user's next event
  waits until the one before is done (handled and delivered, or given up); different users are worked
  on side by side (`parallel` rows per process).
* **No row held for ever.** Only the rows whose work is running are renewed, each until its attempt's
  deadline (`attempt_seconds`): work that waits on something that never comes (a call to LINE, a
  database connection) is cut off there and the row let go as it stands, so the next holder goes on by
  the rules for a holder that died (hub/line/webhook.py: the same reply token while it is fresh, else a
  push with the retry key). A row whose attempt ended without being marked or freed (the database
  refusing both, during a restart) is no longer renewed and comes back when its lease runs out.
* **Nothing lost.** A row stays pending until its messages were accepted by LINE or refused for good
  (a 4xx). LINE unreachable: the row is tried again later with backoff (`retry_later`), by push with the
  event's retry key, for as long as LINE keeps a retry key (24 hours). Rows stored before a crash are
  taken by the worker when the process starts again.

How rows reach a worker, cheaply: the webhook's own transaction takes the rows it stores that are their
user's next, as many as its process's worker has room for (`accept`), and the transaction that marks a
row done takes the same user's next row (`finish`). Both look at a handful of rows by index. The search
over all pending rows (`claim`) runs only when there may be more than those two ways found: a store that
left rows for lack of room, a `wake`, and every `poll_seconds` (rows stored by another process whose
worker is gone, rows whose lease ended, retries that came due). A store and a mark of the same user at
the same moment cannot both miss the new row: SQLite runs them one after the other, and on PostgreSQL
the store locks the user's pending rows first (`_wait_for_marks`). Why: that search, once per event,
was the biggest cost of an event and held SQLite's write lock while it ran (bench/line.py,
docs/line.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Alias,
    ColumnElement,
    Connection,
    Engine,
    Executable,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from hub.db import UtcDateTime, utcnow
from hub.jobs.runner import WORKER, finish_even_if_cancelled
from hub.models.line_inbox import LineInboxEntry

log = logging.getLogger(__name__)

# A worker renews the leases of the rows in its hands every RENEW_SECONDS, so a lease only has to
# outlive a few missed renewals, not a whole delivery (hub.line.delivery: 5 x 10 s at most). Short, so
# a dead worker's row is taken again while its reply token is still good (webhook.REPLY_TOKEN_SECONDS):
# the next holder can then tell whether the dead one's reply went through (docs/line.md).
LEASE_SECONDS = 30.0
RENEW_SECONDS = 5.0
MARK_PATIENCE_SECONDS = 60.0  # how long an answered row's done mark waits out a database restart
POLL_SECONDS = 1.0
PARALLEL = 32  # HUB_LINE_INBOX_PARALLEL (hub.core.config says why so many)
RETRY_KEY_LIFETIME = dt.timedelta(hours=24)  # how long LINE remembers an X-Line-Retry-Key
MAX_BACKOFF_SECONDS = 300.0


@dataclass(frozen=True)
class NewEvent:
    """What the webhook stores of one event (the chat needs no more of it)."""

    channel: str
    webhook_event_id: str
    line_user_id: str
    kind: str
    content: str | None
    reply_token: str | None


@dataclass(frozen=True)
class Taken(NewEvent):
    """A stored event whose row this worker holds the lease of."""

    id: int
    received_at: dt.datetime
    attempts: int
    owner: str = ""  # the lease holder that took it


class Result(enum.Enum):
    DONE = "done"  # delivered, or refused for good: the user's next event may go
    LATER = "later"  # LINE could not be reached: try again after a backoff
    LOST = "lost"  # the lease went to another worker meanwhile: leave the row alone


# A statement and its parameters, run as they are: built once, a statement is compiled once and its cache
# key computed once, where one built per call paid both every time (py-spy under bench/line.py).
Write = tuple[Executable, dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    result: Result
    # written in the transaction that marks the row done (the outbox row's delivered_at)
    also: Sequence[Write] = field(default_factory=tuple)
    # work after the answer went (the rich-menu link), before the row is marked: it gets what is left of
    # the attempt's deadline, and cut off there it is dropped, not the answer with it
    then: Callable[[], Awaitable[None]] | None = None


Process = Callable[[Taken], Awaitable[Outcome]]


# The inbox's statements are Core statements on the table, built once: the ORM's bulk UPDATE ... RETURNING
# cost the worker more CPU per event than the database's work (py-spy under bench/line.py, 2026-12-07).
_TABLE = LineInboxEntry.__table__


def _insert(dialect: str):  # type: ignore[no-untyped-def]
    return (postgresql if dialect == "postgresql" else sqlite).insert(_TABLE)


_STORE = {
    dialect: _insert(dialect).on_conflict_do_nothing(index_elements=["channel", "webhook_event_id"])
    for dialect in ("postgresql", "sqlite")
}
_c = _TABLE.c
# the row is still the one the worker took: its id, the lease holder's name, not done
_MINE = and_(_c.id == bindparam("p_id"), _c.lease_owner == bindparam("p_owner"), _c.done_at.is_(None))
_IS_MINE = select(_c.id).where(_MINE)
_LOCK_MINE = update(_TABLE).where(_MINE).values(lease_owner=bindparam("p_owner"))  # a no-op write: a lock
_DONE = (
    update(_TABLE)
    .where(_MINE)
    .values(
        done_at=bindparam("p_now", type_=UtcDateTime()),
        content=None,
        reply_token=None,
        lease_owner=None,
        lease_until=None,
    )
)
_FREE = update(_TABLE).where(_MINE).values(lease_owner=None, lease_until=None)


def _takeable(now: object) -> tuple[Alias, ColumnElement[bool]]:
    """(alias, condition): pending rows, not held by a live lease, due, and their user's oldest."""
    head, older = _TABLE.alias("head"), _TABLE.alias("older")
    older_pending = (
        select(older.c.id)
        .where(
            older.c.channel == head.c.channel,
            older.c.line_user_id == head.c.line_user_id,
            older.c.done_at.is_(None),
            older.c.id < head.c.id,
        )
        .exists()
    )
    condition = and_(
        head.c.done_at.is_(None),
        or_(head.c.lease_until.is_(None), head.c.lease_until < now),
        or_(head.c.next_attempt_at.is_(None), head.c.next_attempt_at <= now),
        ~older_pending,
    )
    return head, condition


class Inbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        process: Process,
        *,
        parallel: int = PARALLEL,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        attempt_seconds: float,  # HUB_LINE_INBOX_ATTEMPT_SECONDS (hub.core.config)
    ) -> None:
        # The inbox's own transactions are Core statements on a connection of the sessions' engine: the
        # Session's machinery around each statement cost more CPU than the statement (py-spy under
        # bench/line.py, 2026-12-07).
        self.engine: Engine = sessions.kw["bind"]
        self.process = process
        self.parallel = parallel
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.attempt_seconds = attempt_seconds
        self.owner = f"{WORKER}:{secrets.token_hex(4)}"[-64:]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._busy: set[asyncio.Task[None]] = set()
        self._held: dict[int, float] = {}  # row id -> until when (loop time) its lease is renewed
        self._claiming = False
        self._look = True  # there may be rows only the search over all pending rows finds
        self._reserved = 0  # room promised to stores in flight (`accept`)
        self._stopping = False
        self._statements: dict[tuple[str, str], Executable] = {}
        self._renewed = time.monotonic()

    # --- the database side (run in a thread) ---

    def store(self, events: Sequence[NewEvent], take: int = 0) -> list[Taken]:
        """Store the events of one webhook in one transaction (one already stored is left as it is), and
        take up to `take` of them that are their user's next, for this worker."""
        if not events:
            return []
        with self.engine.begin() as conn:
            now = utcnow()
            rows = [
                {
                    "channel": e.channel,
                    "webhook_event_id": e.webhook_event_id,
                    "line_user_id": e.line_user_id,
                    "kind": e.kind,
                    "content": e.content,
                    "reply_token": e.reply_token,
                    "received_at": now,
                    "attempts": 0,
                }
                for e in events
            ]
            conn.execute(_STORE[conn.dialect.name], rows)
            taken: list[Taken] = []
            for channel in sorted({e.channel for e in events}) if take > 0 else ():
                ids = [e.webhook_event_id for e in events if e.channel == channel]
                users = sorted({e.line_user_id for e in events if e.channel == channel})
                if conn.dialect.name == "postgresql":
                    self._wait_for_marks(conn, channel, users)
                taken += self._take(conn, "events", take - len(taken), p_channel=channel, p_events=ids)
        return sorted(taken, key=lambda row: row.id)

    @staticmethod
    def _wait_for_marks(conn: Connection, channel: str, users: Sequence[str]) -> None:
        """PostgreSQL: lock these users' pending rows before taking the new ones. Why: a row marked done
        while this store runs would otherwise take no next row (the new one is not committed yet) and
        this store would see the marked row still pending, so the new row would wait for the search.
        Locked, the store waits for that mark to commit and then sees it; a mark that comes after the
        lock waits for this store and then finds the new row. Marks never wait on a store (their take
        skips locked rows), so the two cannot deadlock; SQLite runs writers one at a time anyway."""
        t = _TABLE.c
        conn.execute(
            select(t.id)
            .where(t.channel == channel, t.line_user_id.in_(users), t.done_at.is_(None))
            .order_by(t.id)
            .with_for_update()
        )

    def _claim_statement(self, dialect: str, among: str) -> Executable:
        """The one statement that takes rows (see the module's notes), built once per kind: `any` pending
        row, the rows of these `events`, or the next row of one `user`. Takeable: pending, not held by a
        live lease, due, and their user's oldest pending row."""
        key = (dialect, among)
        if key in self._statements:
            return self._statements[key]
        t = _TABLE.c
        now = bindparam("p_now", type_=UtcDateTime())
        head, takeable = _takeable(now)
        candidates = select(head.c.id).where(takeable)
        if among == "events":
            candidates = candidates.where(
                head.c.channel == bindparam("p_channel"),
                head.c.webhook_event_id.in_(bindparam("p_events", expanding=True)),
            )
        elif among == "user":
            candidates = candidates.where(
                head.c.channel == bindparam("p_channel"), head.c.line_user_id == bindparam("p_user")
            )
        candidates = candidates.order_by(head.c.id).limit(bindparam("p_limit"))
        chosen: Select[Any] = candidates
        if dialect == "postgresql":
            # Picked once, in a materialised CTE: as `id IN (subquery)` PostgreSQL may run the subquery
            # again for the UPDATE's scan, and each run SKIPs the rows the runs before LOCKED, so a
            # claim of 3 took 7 rows (tests/hub/line/test_inbox.py: rows in hand beyond the process's room)
            picked = (
                candidates.with_for_update(skip_locked=True, of=head)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            chosen = select(picked.c.id)
        statement = (
            update(_TABLE)
            .where(
                t.id.in_(chosen),
                t.done_at.is_(None),
                or_(t.lease_until.is_(None), t.lease_until < now),
            )
            .values(lease_owner=bindparam("p_owner"), lease_until=bindparam("p_until", type_=UtcDateTime()))
            .returning(  # in the order of Taken's fields
                t.channel,
                t.webhook_event_id,
                t.line_user_id,
                t.kind,
                t.content,
                t.reply_token,
                t.id,
                t.received_at,
                t.attempts,
            )
        )
        self._statements[key] = statement
        return statement

    def _take(self, conn: Connection, among: str, limit: int, **narrow: object) -> list[Taken]:
        if limit <= 0:
            return []
        now = utcnow()
        statement = self._claim_statement(conn.dialect.name, among)
        params = {
            "p_now": now,
            "p_limit": limit,
            "p_owner": self.owner,
            "p_until": now + dt.timedelta(seconds=self.lease_seconds),
            **narrow,
        }
        return [Taken(*row, owner=self.owner) for row in conn.execute(statement, params)]

    def claim(self, limit: int) -> list[Taken]:
        """Take up to `limit` rows of any user for this worker (the search over all pending rows)."""
        with self.engine.begin() as conn:
            taken = self._take(conn, "any", limit)
        return sorted(taken, key=lambda row: row.id)

    @staticmethod
    def hold(db: Session, entry: Taken) -> bool:
        """The first step of a handling transaction: False when the row is no longer the taker's (the
        lease was taken over after it ran out, or the row is done). On PostgreSQL the row is locked here
        until the transaction ends. On SQLite it is only read: a write there takes the whole database's
        write lock for the rest of the transaction, and held through the handling (its reads and Python)
        that lock was what limited the LINE entry of two processes (bench/line.py, docs/line.md), so
        the lock is taken by `keep`, after the handling."""
        mine = {"p_id": entry.id, "p_owner": entry.owner}
        if db.get_bind().dialect.name != "postgresql":
            return db.connection().execute(_IS_MINE, mine).first() is not None
        return db.connection().execute(_LOCK_MINE, mine).rowcount == 1

    @staticmethod
    def keep(db: Session, entry: Taken) -> bool:
        """The last step before a handling transaction commits (after `hold`): on SQLite, check again
        under the write lock, which is held from here (or from the handling's first write) until the
        commit, that the row is still the taker's; False: roll back. On PostgreSQL `hold` locked it."""
        if db.get_bind().dialect.name == "postgresql":
            return True
        return db.connection().execute(_LOCK_MINE, {"p_id": entry.id, "p_owner": entry.owner}).rowcount == 1

    def finish(
        self, entry_id: int, also: Sequence[Write] = (), next_of: tuple[str, str] | None = None
    ) -> tuple[bool, list[Taken]]:
        """Mark the row done (and forget the person's words and the reply token); with `next_of`
        (channel, LINE user), take that user's next row in the same transaction. Returns whether the
        row was still this worker's, and what was taken."""
        with self.engine.begin() as conn:
            done = conn.execute(_DONE, {"p_id": entry_id, "p_owner": self.owner, "p_now": utcnow()})
            for statement, params in also:
                conn.execute(statement, params)
            marked = done.rowcount == 1
            taken: list[Taken] = []
            if marked and next_of is not None:
                taken = self._take(conn, "user", 1, p_channel=next_of[0], p_user=next_of[1])
        return marked, taken

    def retry_later(self, entry: Taken) -> None:
        """LINE could not be reached: free the row and make it due again after a backoff; past the retry
        key's lifetime a push could double a message, so the row is given up (done, undelivered)."""
        now = utcnow()
        if now - entry.received_at > RETRY_KEY_LIFETIME:
            log.error("LINE inbox row %s undelivered for 24 hours; given up", entry.id)
            self.finish(entry.id)
            self._look = True  # the user's next row may go now
            return
        backoff = min(MAX_BACKOFF_SECONDS, 2.0 ** min(entry.attempts + 1, 16))
        t = _TABLE.c
        with self.engine.begin() as conn:
            conn.execute(
                update(_TABLE)
                .where(t.id == entry.id, t.lease_owner == self.owner, t.done_at.is_(None))
                .values(
                    attempts=entry.attempts + 1,
                    next_attempt_at=now + dt.timedelta(seconds=backoff),
                    reply_token=None,
                    lease_owner=None,
                    lease_until=None,
                )
            )

    def let_go(self, entry: Taken) -> None:
        """The attempt ran past its deadline: free the row at once as it stands (its attempts and reply
        token kept), for the next holder to go on as after a holder that died. A cut attempt whose thread
        still runs finds the row no longer its own (`hold`). Past the retry key's lifetime the row is
        given up, as in `retry_later`."""
        if utcnow() - entry.received_at > RETRY_KEY_LIFETIME:
            log.error("LINE inbox row %s undelivered for 24 hours; given up", entry.id)
            self.finish(entry.id)
            self._look = True
            return
        with self.engine.begin() as conn:
            conn.execute(_FREE, {"p_id": entry.id, "p_owner": self.owner})

    def takeable_count(self) -> int:
        """Rows any worker could take now (tests, the benchmark: `drain`)."""
        head, takeable = _takeable(utcnow())
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(head).where(takeable)) or 0

    def renew_leases(self, ids: Sequence[int]) -> None:
        """Push the leases of these rows (the ones whose work is running) `lease_seconds` into the future.
        By id, not by owner: a row this worker took but no longer works on must come back to the others
        when its lease runs out (docs/deploy.md: rows held for minutes under a renewed lease)."""
        t = _TABLE.c
        with self.engine.begin() as conn:
            conn.execute(
                update(_TABLE)
                .where(t.id.in_(ids), t.lease_owner == self.owner, t.done_at.is_(None))
                .values(lease_until=utcnow() + dt.timedelta(seconds=self.lease_seconds))
            )

    def _release_leases(self) -> None:
        t = _TABLE.c
        with self.engine.begin() as conn:
            conn.execute(
                update(_TABLE)
                .where(t.lease_owner == self.owner, t.done_at.is_(None))
                .values(lease_owner=None, lease_until=None)
            )

    # --- the worker (on the process's event loop) ---

    # The worker lives on the event loop it was started on. One app can be served by two loops at once
    # (a test's TestClient next to a uvicorn thread); calls from another loop are handed over to it.

    def _on_worker_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def on_worker_loop(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `make()` on the worker's loop (at once when called there, or when no worker runs)."""
        loop = self._loop
        if loop is None or self._on_worker_loop():
            await make()
        elif loop.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), loop))

    def wake(self) -> None:
        """Have the worker search all pending rows (rows this process's stores and marks did not take)."""
        self._look = True
        if self._wake is None or self._loop is None:
            return
        if self._on_worker_loop():
            self._wake.set()
        elif self._loop.is_running():
            self._loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        """Start this process's worker; rows left from before a crash are taken at once."""
        if self._loop_task is None:
            self._loop = asyncio.get_running_loop()
            self._look, self._stopping = True, False
            self._wake = asyncio.Event()
            self._wake.set()
            self._loop_task = asyncio.create_task(self._run(), name="line-inbox")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking rows, let the rows in hand finish (a row cut off mid-delivery could be sent twice
        by the next worker), then free the leases of any that did not."""
        await self.on_worker_loop(lambda: self._stop(grace))
        self._loop_task, self._loop = None, None

    async def _stop(self, grace: float) -> None:
        self._stopping = True  # rows in hand finish, but take no next row
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._busy:
            await asyncio.wait(list(self._busy), timeout=grace)
        try:
            await asyncio.to_thread(self._release_leases)
        except Exception:  # the database is gone: the leases run out by themselves
            log.warning("LINE inbox leases not released; they run out in %.0f s", self.lease_seconds)

    async def drain(self) -> None:
        """Wait until this process has worked off every row it can take now (tests, the benchmark).
        Returns at once when the worker is not running."""
        await self.on_worker_loop(self._drain)

    async def _drain(self) -> None:
        while self._loop_task is not None:
            self.wake()
            await asyncio.sleep(0)
            while self._claiming or self._busy:
                if self._busy:
                    await asyncio.wait(list(self._busy))
                else:
                    await asyncio.sleep(0.005)
            if await asyncio.to_thread(self.takeable_count) == 0 and not (self._claiming or self._busy):
                return
            await asyncio.sleep(0.005)

    async def _renew_if_due(self) -> None:
        if time.monotonic() - self._renewed < min(RENEW_SECONDS, self.lease_seconds / 4):
            return
        now = asyncio.get_running_loop().time()
        ids = sorted(row for row, until in self._held.items() if until > now)
        if not ids:
            return
        self._renewed = time.monotonic()
        try:
            await finish_even_if_cancelled(asyncio.to_thread(self.renew_leases, ids))
        except Exception:  # the database is away: the leases hold a while yet
            log.warning("LINE inbox: could not renew leases; trying again", exc_info=True)

    async def accept(self, events: Sequence[NewEvent]) -> None:
        """The webhook's store: the rows that are their user's next go to this process's worker in the
        same transaction, as many as it has room for; the search over all pending rows is asked for only
        when rows may have been left for lack of room."""
        if not events:
            return
        if not self._on_worker_loop() or self._stopping or self._loop_task is None:
            await asyncio.to_thread(self.store, events)
            self.wake()
            return
        room = max(0, self.parallel - len(self._busy) - self._reserved)
        self._reserved += room
        try:
            # taken rows are leased to this worker: they are started even if the request is cancelled
            taken = await finish_even_if_cancelled(asyncio.to_thread(self.store, events, room))
        finally:
            self._reserved -= room
        self._start(taken)
        if len(taken) == room:
            self.wake()  # perhaps more than there was room for

    def _start(self, taken: Sequence[Taken]) -> None:
        for entry in taken:
            task = asyncio.create_task(self._work(entry))
            self._busy.add(task)

    async def _run(self) -> None:
        assert self._wake is not None
        # Not `while True`: `stop` sets `_stopping` before it cancels this task, and Python 3.11's
        # asyncio.wait_for loses a cancellation that comes as its wait ends (a wake at that moment); the
        # loop would then run on and `stop` wait for it for ever (a hub that never shut down).
        while not self._stopping:
            self._wake.clear()
            await self._renew_if_due()
            room = self.parallel - len(self._busy) - self._reserved
            if room > 0 and self._look:
                self._look = False
                self._claiming = True
                taken: list[Taken] = []
                try:
                    taken = await finish_even_if_cancelled(asyncio.to_thread(self.claim, room))
                except Exception:  # the database is down or busy: look again at the next poll
                    log.warning("LINE inbox: could not take rows; trying again", exc_info=True)
                finally:
                    self._claiming = False
                self._start(taken)
                if len(taken) == room:
                    self._look = True
                    continue  # perhaps more waiting
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                self._look = True

    async def _mark_done(self, entry: Taken, also: Sequence[Write]) -> None:
        """LINE has taken the answer: the row must say so, or its next holder sends it again by push (a
        double). A database down for a moment (a restart, found by deploy/rehearsal/field.py) is waited
        out a while; `finish` marks nothing once another process took the row."""
        deadline = time.monotonic() + MARK_PATIENCE_SECONDS
        while True:
            try:
                # the user's next row comes with the mark, unless this worker is stopping
                next_of = None if self._stopping else (entry.channel, entry.line_user_id)
                marked, taken = await asyncio.to_thread(self.finish, entry.id, also, next_of)
                if not marked:
                    log.warning("LINE inbox row %s was taken over before it was marked done", entry.id)
                self._start(taken)
                return
            except Exception:
                if time.monotonic() >= deadline:
                    raise
                log.warning("LINE inbox row %s answered; marking it waits for the database", entry.id)
                await asyncio.sleep(min(1.0, self.lease_seconds / 10))

    async def _attempt(self, entry: Taken, deadline: float) -> Outcome | None:
        """`process(entry)` and its `then`, cut off at `deadline` (loop time); None when the work was."""
        cut = asyncio.timeout_at(deadline)
        try:
            async with cut:
                outcome = await self.process(entry)
        except TimeoutError:
            if not cut.expired():
                log.exception("LINE inbox row %s failed; tried again later", entry.id)
                return Outcome(Result.LATER)
            log.warning("LINE inbox row %s not done in %.0f s; let go", entry.id, self.attempt_seconds)
            return None
        except Exception:
            log.exception("LINE inbox row %s failed; tried again later", entry.id)
            return Outcome(Result.LATER)
        if outcome.then is not None:
            try:
                async with asyncio.timeout_at(deadline):
                    await outcome.then()
            except Exception:  # the answer went: what follows it is not worth a second answer
                log.warning(
                    "LINE inbox row %s: the work after its answer was cut off", entry.id, exc_info=True
                )
        return outcome

    async def _work(self, entry: Taken) -> None:
        loop = asyncio.get_running_loop()
        self._held[entry.id] = deadline = loop.time() + self.attempt_seconds
        try:
            outcome = await self._attempt(entry, deadline)
            if outcome is None:
                self._held.pop(entry.id, None)  # not renewed even if freeing it fails
                await asyncio.to_thread(self.let_go, entry)
            elif outcome.result is Result.DONE:
                # LINE took the answer: the mark waits out a database restart under the lease
                self._held[entry.id] = loop.time() + MARK_PATIENCE_SECONDS + self.lease_seconds
                await self._mark_done(entry, outcome.also)
            elif outcome.result is Result.LATER:
                await asyncio.to_thread(self.retry_later, entry)
        except Exception:  # marking failed: the lease runs out and the row is taken again
            log.exception("LINE inbox row %s could not be marked", entry.id)
        finally:
            self._held.pop(entry.id, None)
            task = asyncio.current_task()
            if task is not None:
                self._busy.discard(task)  # type: ignore[arg-type]
            if self._wake is not None:
                self._wake.set()  # a slot is free: the loop searches if rows may be waiting
