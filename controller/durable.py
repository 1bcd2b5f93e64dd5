"""SQLite as the charger's durable memory: a commit that returns is in the main database file.

Both the profile store and the OCPP queue promise the CSMS something (an Accepted, a
transaction message) that a power cut must not undo, so both open their file the same way and
write only through `commit`. They use a rollback journal, not WAL: with WAL a committed change
lives in the `-wal` file until a checkpoint, and a lost or garbled `-wal` silently takes a
supply cap with it. With a rollback journal the main file holds every committed change, and the
journal only ever holds the one being written. These files are written a few times a minute at
most, so the extra fsync per commit costs nothing that matters.

A file that is damaged anyway (a truncated SD card write, a bad block) is moved aside and
replaced by an empty one, and the caller learns what happened through `Damage`, so it can say
what was lost instead of starting silently with less.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Statement = tuple[str, tuple[Any, ...]]

log = logging.getLogger(__name__)

_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class Damage:
    """A state file that could not be trusted at start-up and was moved aside."""

    path: Path
    moved_to: Path
    reason: str


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """Open (or create) `path`; raise sqlite3.DatabaseError if it is damaged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    problem = _file_problem(path)
    if problem is not None:
        raise sqlite3.DatabaseError(problem)
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
        rows = db.execute("PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            raise sqlite3.DatabaseError(
                "integrity check: " + "; ".join(str(r[0]) for r in rows[:3])
            )
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def open_checked(
    path: Path, schema: str, now: datetime | None = None
) -> tuple[sqlite3.Connection, Damage | None]:
    """Open `path`; if it is damaged, move it aside (kept for diagnosis) and start empty.

    Errors of the directory itself (not writable, disk full) are not damage: they propagate.
    """
    try:
        return open_durable(path, schema), None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not _is_corruption(exc):
            raise
        reason = str(exc)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    moved_to = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while moved_to.exists():
        n += 1
        moved_to = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(moved_to)
    for suffix in ("-journal", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(moved_to.with_name(moved_to.name + suffix))
    return open_durable(path, schema), Damage(path, moved_to, reason)


def _is_corruption(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "not a database", "corrupt", "integrity"))


def _file_problem(path: Path) -> str | None:
    """What is wrong with the file's header, if anything SQLite itself would not notice.

    SQLite takes a zero-length file for a new empty database and may take a file cut at a page
    boundary for a smaller one; both would lose data without a word.
    """
    if not path.exists():
        return None
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (truncated)"
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(_HEADER):
        return "not a database (no SQLite header)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    change_counter = int.from_bytes(head[24:28], "big")
    pages = int.from_bytes(head[28:32], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    if pages and valid_for == change_counter and size < pages * page_size:
        return f"the file is truncated ({size} of {pages * page_size} bytes)"
    return None


def commit(db: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    """All statements in one transaction, on disk when this returns, or none of them."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, params in statements:
            db.execute(sql, params)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class DurableWriteError(RuntimeError):
    """A commit that reached memory could not reach the disk; nothing that depends on it may
    leave the charger."""


class MirroredDb:
    """A durable file whose commits do not wait for the disk on the caller's thread.

    The file is copied into an in-memory database at start; reads and commits run there at
    once (microseconds), and a writer thread applies every commit, in order, to the file
    (`commit`: on disk when it returns). An SD card's fsync can take 100 ms or more, longer
    than the contactor's budget, so the event loop that runs the pilot must never wait for it.
    The guarantee moves to the one place where it matters: nothing is sent to the CSMS before
    `written()` (see `all_written`), so a message counts as sent, and an Accepted leaves, only
    once what it promises is on disk. If the disk refuses a commit, the memory copy goes back
    to what is on disk, and every waiter learns it (DurableWriteError).
    """

    def __init__(self, path: Path, schema: str, now: datetime | None = None) -> None:
        self._file, self.damage = open_checked(path, schema, now)
        self._mem = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._file.backup(self._mem)
        self._lock = threading.Lock()  # memory copy, counters, waiters
        self._jobs: queue.SimpleQueue[tuple[int, Sequence[Statement]] | None] = queue.SimpleQueue()
        self._submitted = 0
        self._written = 0
        self._discard_upto = 0
        self._failure: BaseException | None = None
        self._waiters: list[tuple[int, concurrent.futures.Future[None]]] = []
        self._thread = threading.Thread(target=self._write_loop, name=f"durable:{path.name}")
        self._thread.daemon = True
        self._thread.start()
        _OPEN.add(self)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """A read from the memory copy, which already holds every commit made."""
        with self._lock:
            return self._mem.execute(sql, params)

    def commit(self, statements: Sequence[Statement]) -> None:
        """All statements in one transaction in memory now, and on disk soon, in order."""
        batch = list(statements)
        with self._lock:
            commit(self._mem, batch)
            self._submitted += 1
            self._jobs.put((self._submitted, batch))

    def pending(self) -> int:
        """Commits not yet on disk."""
        with self._lock:
            return self._submitted - self._written

    def written_future(self) -> concurrent.futures.Future[None]:
        """Done once every commit made so far is on disk (or failed)."""
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            if self._written >= self._submitted:
                fut.set_result(None)
            else:
                self._waiters.append((self._submitted, fut))
        return fut

    async def written(self) -> None:
        fut = self.written_future()
        if not fut.done():
            await asyncio.wrap_future(fut)
        fut.result()

    def close(self) -> None:
        """Write out what is pending, then close both copies."""
        _OPEN.discard(self)
        self._jobs.put(None)
        self._thread.join()
        self._file.close()
        self._mem.close()

    def _write_loop(self) -> None:
        """Commits waiting together go to disk in one transaction (one fsync, not one each):
        each stays all-or-nothing, and a slow card still keeps up with a message a second."""
        stop = False
        while not stop:
            job = self._jobs.get()
            jobs: list[tuple[int, Sequence[Statement]]] = []
            while job is not None:
                if job[0] > self._discard_upto:
                    jobs.append(job)
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
            stop = job is None
            if not jobs:
                continue
            n = jobs[-1][0]
            failure: BaseException | None = None
            try:
                commit(self._file, [st for _, batch in jobs for st in batch])
            except (sqlite3.Error, OSError) as exc:
                failure = exc
                log.error("a commit could not be written to disk (%s): it is undone", exc)
            with self._lock:
                if failure is not None:
                    # Later commits were made on top of this one in memory: they are dropped
                    # with it, and memory goes back to what the file holds.
                    self._file.backup(self._mem)
                    self._discard_upto = self._submitted
                    self._written = self._submitted
                    error = DurableWriteError(str(failure))
                    done, self._waiters = self._waiters, []
                    for _, fut in done:
                        _settle(fut, error)
                    continue
                self._written = n
                ready = [w for w in self._waiters if w[0] <= n]
                self._waiters = [w for w in self._waiters if w[0] > n]
            for _, fut in ready:
                _settle(fut, None)


def _settle(fut: concurrent.futures.Future[None], error: BaseException | None) -> None:
    """Resolve a waiter, unless its task was cancelled meanwhile (`wrap_future` cancels it)."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)


class DurableWriter:
    """A thread that commits one connection's batches in order, so the caller never waits
    for the disk; `then` runs on the caller's event loop once its batch is on disk.

    For a store whose memory is the source of truth for reads (the profile store): what the
    CSMS asks for is put in force only once it is stored (`then`), and nothing is sent before
    the commits made so far are on disk (`all_written`). A batch the disk refuses is not put
    in force, and the next `written()` raises DurableWriteError, once.
    """

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._submitted = 0
        self._written = 0
        self._failure: DurableWriteError | None = None
        self._waiters: list[tuple[int, concurrent.futures.Future[None]]] = []
        self._thread = threading.Thread(target=self._write_loop, name=f"durable:{name}")
        self._thread.daemon = True
        self._thread.start()
        _OPEN.add(self)

    def submit(
        self,
        statements: Sequence[Statement],
        then: Callable[[], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        with self._lock:
            self._submitted += 1
            self._jobs.put(_Job(self._submitted, list(statements), then, loop))

    def commit_now(self, statements: Sequence[Statement]) -> None:
        """On disk when this returns (no event loop to hand the waiting to); raises like
        `commit`."""
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            self._submitted += 1
            self._jobs.put(_Job(self._submitted, list(statements), None, None, done))
        done.result()

    def written_future(self) -> concurrent.futures.Future[None]:
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            if self._written >= self._submitted:
                failure, self._failure = self._failure, None
                _settle(fut, failure)
            else:
                self._waiters.append((self._submitted, fut))
        return fut

    async def written(self) -> None:
        fut = self.written_future()
        if not fut.done():
            await asyncio.wrap_future(fut)
        fut.result()

    def close(self) -> None:
        """Write out what is pending; the connection stays the caller's to close."""
        _OPEN.discard(self)
        self._jobs.put(None)
        self._thread.join()

    def _write_loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            failure: BaseException | None = None
            try:
                commit(self._db, job.statements)
            except (sqlite3.Error, OSError) as exc:
                failure = exc
                log.error("a change could not be written to disk (%s): it is not in force", exc)
            if job.done is not None:
                _settle(job.done, failure)
            elif failure is None and job.then is not None and job.loop is not None:
                # Before the waiters are woken (FIFO on the loop): what is sent next sees it.
                with contextlib.suppress(RuntimeError):  # the loop is gone: nothing to tell
                    job.loop.call_soon_threadsafe(job.then)
            with self._lock:
                self._written = job.seq
                if failure is not None and job.done is None:
                    self._failure = DurableWriteError(str(failure))
                ready = [w for w in self._waiters if w[0] <= job.seq]
                self._waiters = [w for w in self._waiters if w[0] > job.seq]
                error = self._failure if ready else None
                if ready:
                    self._failure = None
            for _, fut in ready:
                _settle(fut, error)


@dataclass(slots=True)
class _Job:
    seq: int
    statements: list[Statement]
    then: Callable[[], None] | None
    loop: asyncio.AbstractEventLoop | None
    done: concurrent.futures.Future[None] | None = None


_OPEN: weakref.WeakSet[MirroredDb | DurableWriter] = weakref.WeakSet()


async def all_written() -> None:
    """Wait until every commit made so far, of every open durable file, is on disk."""
    for db in list(_OPEN):
        await db.written()
