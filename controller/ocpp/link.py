"""The link to the central system: connect, run one session, reconnect forever.

The transport is injected: `opener()` yields any `Connection` (send/recv of text frames), a
websocket in the daemon (see `ws_link`), an in-memory pair in unit tests. Every failure is
followed by a wait that doubles up to `max_backoff_s`, with jitter (half to all of it), and is
reset by a connection that lasted; a call in flight when the link drops fails at once because
the session's tasks are cancelled together.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from controller.ocpp.boot import Boot
from controller.ocpp.core import Core, LinkState
from controller.ocpp.ports import Connection, SessionHost
from controller.ocpp.session import Session

log = logging.getLogger(__name__)

Opener = Callable[[], AbstractAsyncContextManager[Connection]]
FailureHandler = Callable[[Exception], None]

FIRST_DELAY_S = 1.0
# A connection that lasted this long starts the backoff again from FIRST_DELAY_S.
STABLE_AFTER_S = 30.0


def backoff(delay_s: float, max_s: float, jitter: float) -> tuple[float, float]:
    """(this wait, the next delay). `jitter` in [0, 1] picks within half to all of it. Pure."""
    wait_s = min(max_s, delay_s) * (0.5 + 0.5 * jitter)
    return wait_s, min(max_s, delay_s * 2)


class Link:
    def __init__(
        self,
        core: Core,
        boot: Boot,
        host: SessionHost,
        opener: Opener,
        on_failure: FailureHandler,
        rng: random.Random | None = None,
    ) -> None:
        self._core = core
        self._boot = boot
        self._host = host
        self._open = opener
        self._on_failure = on_failure
        self._rng = rng or random.Random()
        self.session: Session | None = None
        self.connects = 0

    async def run(self) -> None:
        """Connect, and reconnect forever; cancel to stop."""
        c = self._core
        delay_s = FIRST_DELAY_S
        while True:
            c.link_state = LinkState.CONNECTING
            started = c.clock.monotonic()
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a charger keeps trying, whatever failed
                self._on_failure(exc)
            c.link_state = LinkState.OFFLINE
            c.session = None
            if c.clock.monotonic() - started > STABLE_AFTER_S:
                delay_s = FIRST_DELAY_S
            wait_s, delay_s = backoff(delay_s, c.settings.max_backoff_s, self._rng.random())
            await c.timers.sleep(wait_s)

    async def _connect_once(self) -> None:
        c = self._core
        async with self._open() as connection:
            self.connects += 1
            c.link_state = LinkState.CONNECTED
            session = Session(
                self._host, c.settings.charge_point_id, connection, c.settings.call_timeout_s
            )
            self.session = c.link_session = session
            reader = asyncio.create_task(session.start(), name="ocpp-reader")
            worker = asyncio.create_task(self._boot.session_main(session), name="ocpp-session")
            try:
                done, _ = await asyncio.wait({reader, worker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                c.session = c.link_session = None
                self.session = None
                for t in (reader, worker):
                    t.cancel()
                # Bounded: a call stuck inside the ocpp library (its wait_for can miss a
                # cancellation on Python 3.11) must not hold the reconnect.
                await asyncio.wait({reader, worker}, timeout=2.0)
            for t in done:
                if not t.cancelled() and (exc := t.exception()) is not None:
                    raise exc
