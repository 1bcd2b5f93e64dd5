"""The protocol-free half of a link to a CSMS, shared by the 1.6 and the 2.0.1 adapters: connect,
run one session, reconnect forever.

Every failure is followed by a wait that doubles up to `max_backoff_s`, with jitter (half to all
of it), and is reset by a connection that lasted. A session is a few tasks (the frame reader,
the protocol's work, ...) that live and die together: the first to end ends the others, so a
call in flight when the link drops fails at once. What a session is, how a failure is reported
and what the link's state is called belong to each adapter; this module knows no OCPP version.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from hw.clock import Clock

FIRST_DELAY_S = 1.0
# A connection that lasted this long starts the backoff again from FIRST_DELAY_S.
STABLE_AFTER_S = 30.0
# Bounded: a call stuck inside the ocpp library (its wait_for can miss a cancellation on
# Python 3.11) must not hold the reconnect.
CANCEL_WAIT_S = 2.0


def backoff(delay_s: float, max_s: float, jitter: float) -> tuple[float, float]:
    """(this wait, the next delay). `jitter` in [0, 1] picks within half to all of it. Pure."""
    wait_s = min(max_s, delay_s) * (0.5 + 0.5 * jitter)
    return wait_s, min(max_s, delay_s * 2)


class _Sleeper(Protocol):
    async def sleep(self, seconds: float) -> None: ...


class _BackoffSettings(Protocol):
    @property
    def max_backoff_s(self) -> float: ...


class LinkOwner(Protocol):
    """What the loop reads of an adapter's shared state (1.6's Core, 2.0.1's Context)."""

    @property
    def clock(self) -> Clock: ...

    @property
    def timers(self) -> _Sleeper: ...

    @property
    def settings(self) -> _BackoffSettings: ...


class ReconnectLoop(ABC):
    """Connect, and reconnect forever with backoff; an adapter supplies one connection's work
    (`_connect_once`), what a failure means to it (`_failed`) and its link states."""

    def __init__(self, owner: LinkOwner, rng: random.Random | None = None) -> None:
        self._owner = owner
        self._rng = rng or random.Random()
        self.connects = 0

    async def run(self) -> None:
        """Connect, and reconnect forever; cancel to stop."""
        o = self._owner
        delay_s = FIRST_DELAY_S
        while True:
            self._connecting()
            started = o.clock.monotonic()
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a charger keeps trying, whatever failed
                self._failed(exc)
            self._offline()
            if o.clock.monotonic() - started > STABLE_AFTER_S:
                delay_s = FIRST_DELAY_S
            wait_s, delay_s = backoff(delay_s, o.settings.max_backoff_s, self._rng.random())
            await o.timers.sleep(wait_s)

    @abstractmethod
    async def _connect_once(self) -> None:
        """One connection: open it, run a session on it, return or raise when it ends."""

    @abstractmethod
    def _failed(self, exc: Exception) -> None:
        """A connection failed or ended with an error: log it, report it if it matters."""

    @abstractmethod
    def _connecting(self) -> None:
        """About to connect."""

    @abstractmethod
    def _offline(self) -> None:
        """The connection is gone (or never came): no session to send on."""


async def supervise(
    tasks: Iterable[asyncio.Task[Any]], on_end: Callable[[], None]
) -> set[asyncio.Task[Any]]:
    """Run a session's tasks until the first ends; then `on_end()` (before anything else can
    send on the dead session), cancel the rest and wait for them a bounded time. Each task's
    error is looked at (none left to be reported as "never retrieved"); the first finisher's
    is raised. Returns the tasks that had ended first."""
    watched = set(tasks)
    try:
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    finally:
        on_end()
        for t in watched:
            t.cancel()
        await asyncio.wait(watched, timeout=CANCEL_WAIT_S)
    errors = {t: t.exception() for t in watched if t.done() and not t.cancelled()}
    for t in done:
        if (exc := errors.get(t)) is not None:
            raise exc
    return done
