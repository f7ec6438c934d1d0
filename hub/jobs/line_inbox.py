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
* **Nothing lost.** A row stays pending until its messages were accepted by LINE or refused for good
  (a 4xx). LINE unreachable: the row is tried again later with backoff (`retry_later`), by push with the
  event's retry key, for as long as LINE keeps a retry key (24 hours). Rows stored before a crash are
  taken by the worker when the process starts again.

A store wakes the worker of the same process at once; every worker also looks every `poll_seconds` for
rows stored by another process, rows whose lease ended and retries that came due.
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

from sqlalchemy import Executable, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker

from hub.db import utcnow
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
PARALLEL = 8
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
class Taken:
    """A row this worker holds the lease of."""

    id: int
    channel: str
    webhook_event_id: str
    line_user_id: str
    kind: str
    content: str | None
    reply_token: str | None
    received_at: dt.datetime
    attempts: int
    owner: str = ""  # the lease holder that took it


class Result(enum.Enum):
    DONE = "done"  # delivered, or refused for good: the user's next event may go
    LATER = "later"  # LINE could not be reached: try again after a backoff
    LOST = "lost"  # the lease went to another worker meanwhile: leave the row alone


@dataclass(frozen=True)
class Outcome:
    result: Result
    # written in the transaction that marks the row done (the outbox row's delivered_at)
    also: Sequence[Executable] = field(default_factory=tuple)


Process = Callable[[Taken], Awaitable[Outcome]]


def _insert(dialect: str):  # type: ignore[no-untyped-def]
    return (postgresql if dialect == "postgresql" else sqlite).insert(LineInboxEntry)


class Inbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        process: Process,
        *,
        parallel: int = PARALLEL,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.process = process
        self.parallel = parallel
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.owner = f"{WORKER}:{secrets.token_hex(4)}"[-64:]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._busy: set[asyncio.Task[None]] = set()
        self._claiming = False
        self._renewed = time.monotonic()

    # --- the database side (run in a thread) ---

    def store(self, events: Sequence[NewEvent]) -> None:
        """Store the events of one webhook in one transaction; one already stored is left as it is."""
        if not events:
            return
        with self.sessions() as db:
            statement = _insert(db.get_bind().dialect.name).on_conflict_do_nothing(
                index_elements=["channel", "webhook_event_id"]
            )
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
            db.execute(statement, rows)
            db.commit()

    def _takeable(self, now: dt.datetime) -> tuple[type[LineInboxEntry], object]:
        """(alias, condition): pending rows, not held by a live lease, due, and their user's oldest."""
        head = aliased(LineInboxEntry)
        older = aliased(LineInboxEntry)
        older_pending = (
            select(older.id)
            .where(
                older.channel == head.channel,
                older.line_user_id == head.line_user_id,
                older.done_at.is_(None),
                older.id < head.id,
            )
            .exists()
        )
        condition = (
            head.done_at.is_(None)
            & or_(head.lease_until.is_(None), head.lease_until < now)
            & or_(head.next_attempt_at.is_(None), head.next_attempt_at <= now)
            & ~older_pending
        )
        return head, condition  # type: ignore[return-value]

    def claim(self, limit: int) -> list[Taken]:
        """Take up to `limit` rows for this worker (one statement: see the module's notes)."""
        now = utcnow()
        t = LineInboxEntry
        with self.sessions() as db:
            head, condition = self._takeable(now)
            candidates = select(head.id).where(condition).order_by(head.id).limit(limit)  # type: ignore[arg-type]
            if db.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True, of=head)
            statement = (
                update(t)
                .where(
                    t.id.in_(candidates),
                    t.done_at.is_(None),
                    or_(t.lease_until.is_(None), t.lease_until < now),
                )
                .values(lease_owner=self.owner, lease_until=now + dt.timedelta(seconds=self.lease_seconds))
                .returning(
                    t.id,
                    t.channel,
                    t.webhook_event_id,
                    t.line_user_id,
                    t.kind,
                    t.content,
                    t.reply_token,
                    t.received_at,
                    t.attempts,
                )
                .execution_options(synchronize_session=False)
            )
            taken = [Taken(*row, owner=self.owner) for row in db.execute(statement)]
            db.commit()
        return sorted(taken, key=lambda row: row.id)

    @staticmethod
    def hold(db: Session, entry: Taken) -> bool:
        """Check inside `db`'s transaction that the row is still the taker's, and lock it until the
        transaction ends: False when the lease was taken over after it ran out, or the row is done."""
        t = LineInboxEntry
        renewed = db.execute(
            update(t)
            .where(t.id == entry.id, t.lease_owner == entry.owner, t.done_at.is_(None))
            .values(lease_owner=entry.owner)  # a no-op write: the row's lock for this transaction
            .execution_options(synchronize_session=False)
        )
        return renewed.rowcount == 1  # type: ignore[attr-defined]

    def finish(self, entry_id: int, also: Sequence[Executable] = ()) -> bool:
        """Mark the row done (and forget the person's words and the reply token)."""
        t = LineInboxEntry
        with self.sessions() as db:
            done = db.execute(
                update(t)
                .where(t.id == entry_id, t.lease_owner == self.owner, t.done_at.is_(None))
                .values(done_at=utcnow(), content=None, reply_token=None, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            for statement in also:
                db.execute(statement)
            db.commit()
        return done.rowcount == 1  # type: ignore[attr-defined]

    def retry_later(self, entry: Taken) -> None:
        """LINE could not be reached: free the row and make it due again after a backoff; past the retry
        key's lifetime a push could double a message, so the row is given up (done, undelivered)."""
        now = utcnow()
        if now - entry.received_at > RETRY_KEY_LIFETIME:
            log.error("LINE inbox row %s undelivered for 24 hours; given up", entry.id)
            self.finish(entry.id)
            return
        backoff = min(MAX_BACKOFF_SECONDS, 2.0 ** min(entry.attempts + 1, 16))
        t = LineInboxEntry
        with self.sessions() as db:
            db.execute(
                update(t)
                .where(t.id == entry.id, t.lease_owner == self.owner, t.done_at.is_(None))
                .values(
                    attempts=entry.attempts + 1,
                    next_attempt_at=now + dt.timedelta(seconds=backoff),
                    reply_token=None,
                    lease_owner=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            db.commit()

    def takeable_count(self) -> int:
        with self.sessions() as db:
            head, condition = self._takeable(utcnow())
            return db.scalar(select(func.count()).select_from(head).where(condition)) or 0  # type: ignore[arg-type]

    def renew_leases(self) -> None:
        """Push the lease of every row this worker still holds LEASE_SECONDS into the future."""
        t = LineInboxEntry
        with self.sessions() as db:
            db.execute(
                update(t)
                .where(t.lease_owner == self.owner, t.done_at.is_(None))
                .values(lease_until=utcnow() + dt.timedelta(seconds=self.lease_seconds))
                .execution_options(synchronize_session=False)
            )
            db.commit()

    def _release_leases(self) -> None:
        t = LineInboxEntry
        with self.sessions() as db:
            db.execute(
                update(t)
                .where(t.lease_owner == self.owner, t.done_at.is_(None))
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            db.commit()

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
            self._wake = asyncio.Event()
            self._wake.set()
            self._loop_task = asyncio.create_task(self._run(), name="line-inbox")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking rows, let the rows in hand finish (a row cut off mid-delivery could be sent twice
        by the next worker), then free the leases of any that did not."""
        await self.on_worker_loop(lambda: self._stop(grace))
        self._loop_task, self._loop = None, None

    async def _stop(self, grace: float) -> None:
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
        if not self._busy or time.monotonic() - self._renewed < min(RENEW_SECONDS, self.lease_seconds / 4):
            return
        self._renewed = time.monotonic()
        try:
            await finish_even_if_cancelled(asyncio.to_thread(self.renew_leases))
        except Exception:  # the database is away: the leases hold a while yet
            log.warning("LINE inbox: could not renew leases; trying again", exc_info=True)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            await self._renew_if_due()
            room = self.parallel - len(self._busy)
            taken: list[Taken] = []
            if room > 0:
                self._claiming = True
                try:
                    taken = await finish_even_if_cancelled(asyncio.to_thread(self.claim, room))
                except Exception:  # the database is down or busy: look again at the next poll
                    log.warning("LINE inbox: could not take rows; trying again", exc_info=True)
                finally:
                    self._claiming = False
                for entry in taken:
                    task = asyncio.create_task(self._work(entry))
                    self._busy.add(task)
            if room > 0 and len(taken) == room:
                continue  # perhaps more waiting
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def _mark_done(self, entry_id: int, also: Sequence[Executable]) -> None:
        """LINE has taken the answer: the row must say so, or its next holder sends it again by push (a
        double). A database down for a moment (a restart, found by deploy/rehearsal/field.py) is waited
        out a while; `finish` marks nothing once another process took the row."""
        deadline = time.monotonic() + MARK_PATIENCE_SECONDS
        while True:
            try:
                if not await asyncio.to_thread(self.finish, entry_id, also):
                    log.warning("LINE inbox row %s was taken over before it was marked done", entry_id)
                return
            except Exception:
                if time.monotonic() >= deadline:
                    raise
                log.warning("LINE inbox row %s answered; marking it waits for the database", entry_id)
                await asyncio.sleep(min(1.0, self.lease_seconds / 10))

    async def _work(self, entry: Taken) -> None:
        try:
            try:
                outcome = await self.process(entry)
            except Exception:
                log.exception("LINE inbox row %s failed; tried again later", entry.id)
                outcome = Outcome(Result.LATER)
            if outcome.result is Result.DONE:
                await self._mark_done(entry.id, outcome.also)
            elif outcome.result is Result.LATER:
                await asyncio.to_thread(self.retry_later, entry)
        except Exception:  # marking failed: the lease runs out and the row is taken again
            log.exception("LINE inbox row %s could not be marked", entry.id)
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._busy.discard(task)  # type: ignore[arg-type]
            self.wake()
