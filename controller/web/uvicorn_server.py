"""uvicorn's server, made to fit a charger: it leaves the signals to the service, and it
does not wake while idle."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn


class QuietServer(uvicorn.Server):
    """uvicorn's server wakes ten times a second to look for an exit request and renew its
    Date header, a fifth of an idle charger's CPU; this one wakes only on exit. Run it with
    `date_header=False`: `controller.web.guards.HeadersMiddleware` dates each response when it
    is sent instead."""

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
        # Once: the default headers (no Date, see above); then only the exit request.
        if await self.on_tick(0):
            return
        await self._exit.wait()
