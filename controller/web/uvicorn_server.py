"""uvicorn's server, made to fit a charger: it leaves the signals to the service, and it
does not wake ten times a second while idle."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import uvicorn


class QuietServer(uvicorn.Server):
    """uvicorn's server wakes ten times a second to look for an exit request, a fifth of an
    idle charger's CPU; this one wakes once a second (the Date header) and at once on exit.
    The second is the wall clock's, as the control loop's, so both share one wake-up."""

    _exit_requested = False
    _exit: asyncio.Event | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The service owns SIGTERM/SIGINT (it must leave the outputs safe); uvicorn must not.
        yield

    @property
    def should_exit(self) -> bool:
        return self._exit_requested

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit_requested = value
        if value and self._exit is not None:
            self._exit.set()

    async def main_loop(self) -> None:
        self._exit = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter += 10  # on_tick renews the Date header when counter % 10 == 0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.001 - time.time() % 1.0):
                    await self._exit.wait()
