"""Durable commits that never make the event loop wait for the disk.

An SD card's fsync can take 100 ms or more, longer than the contactor's budget, so the loop
that runs the pilot hands every commit to a writer thread. The guarantee moves to the one
place where it matters: nothing is sent to the CSMS before the commits made so far are on disk
(`all_written`), so a message counts as sent, and an Accepted leaves, only once what it
promises is stored. Two shapes share one thread-and-waiters mechanism (`_WriterThread`):
`MirroredDb` (reads from an in-memory copy, the OCPP queue) and `DurableWriter` (a store whose
own memory is the source of truth, the profile store).
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
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from controller.durable import Statement, commit, open_checked

log = logging.getLogger(__name__)

J = TypeVar("J")


class DurableWriteError(RuntimeError):
    """A commit that reached memory could not reach the disk; nothing that depends on it may
    leave the charger."""


class _WriterThread(Generic[J]):
    """Numbered jobs written in order by one thread; `written()` waits for all submitted so
    far. A failure to report to the next waiter is kept in `_failure`."""

    def __init__(self, name: str) -> None:
        self._lock = threading.Lock()  # counters, waiters (and the subclass's own state)
        self._jobs: queue.SimpleQueue[J | None] = queue.SimpleQueue()
        self._submitted = 0
        self._written = 0
        self._failure: DurableWriteError | None = None
        self._waiters: list[tuple[int, concurrent.futures.Future[None]]] = []
        self._thread = threading.Thread(target=self._write_loop, name=f"durable:{name}")
        self._thread.daemon = True
        self._thread.start()
        _OPEN.add(self)

    def pending(self) -> int:
        """Commits not yet on disk."""
        with self._lock:
            return self._submitted - self._written

    def written_future(self) -> concurrent.futures.Future[None]:
        """Done once every commit made so far is on disk (or failed)."""
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

    def _stop_thread(self) -> None:
        """Write out what is pending and end the thread."""
        _OPEN.discard(self)
        self._jobs.put(None)
        self._thread.join()

    def _take_ready(self, upto: int) -> list[concurrent.futures.Future[None]]:
        """Under the lock: the waiters whose commits are all written once `upto` is."""
        ready = [fut for seq, fut in self._waiters if seq <= upto]
        self._waiters = [w for w in self._waiters if w[0] > upto]
        return ready

    def _write_loop(self) -> None:
        raise NotImplementedError


class MirroredDb(_WriterThread[tuple[int, Sequence[Statement]]]):
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
        self._discard_upto = 0
        super().__init__(path.name)

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

    def close(self) -> None:
        """Write out what is pending, then close both copies."""
        self._stop_thread()
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
                ready = self._take_ready(n)
            for fut in ready:
                _settle(fut, None)


def _settle(fut: concurrent.futures.Future[None], error: BaseException | None) -> None:
    """Resolve a waiter, unless its task was cancelled meanwhile (`wrap_future` cancels it)."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)


class DurableWriter(_WriterThread["_Job"]):
    """A thread that commits one connection's batches in order, so the caller never waits
    for the disk; `then` runs on the caller's event loop once its batch is on disk.

    For a store whose memory is the source of truth for reads (the profile store): what the
    CSMS asks for is put in force only once it is stored (`then`), and nothing is sent before
    the commits made so far are on disk (`all_written`). A batch the disk refuses is not put
    in force, and the next `written()` raises DurableWriteError, once.
    """

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db = db
        super().__init__(name)

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

    def close(self) -> None:
        """Write out what is pending; the connection stays the caller's to close."""
        self._stop_thread()

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
                ready = self._take_ready(job.seq)
                error = self._failure if ready else None
                if ready:
                    self._failure = None
            for fut in ready:
                _settle(fut, error)


@dataclass(slots=True)
class _Job:
    seq: int
    statements: list[Statement]
    then: Callable[[], None] | None
    loop: asyncio.AbstractEventLoop | None
    done: concurrent.futures.Future[None] | None = None


_OPEN: weakref.WeakSet[_WriterThread[Any]] = weakref.WeakSet()


async def all_written() -> None:
    """Wait until every commit made so far, of every open durable file, is on disk."""
    for db in list(_OPEN):
        await db.written()
