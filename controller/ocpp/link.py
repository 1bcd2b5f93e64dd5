"""The link to the central system: connect, run one session, reconnect forever.

The transport is injected: `opener()` yields any `Connection` (send/recv of text frames), a
websocket in the daemon (see `ws_link`), an in-memory pair in unit tests. The backoff and the
session's task supervision are protocol-free and shared with 2.0.1 (`controller.csms_link`);
this module supplies the 1.6 session and its failure handling.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from controller.csms_link import FIRST_DELAY_S as FIRST_DELAY_S
from controller.csms_link import STABLE_AFTER_S as STABLE_AFTER_S
from controller.csms_link import ReconnectLoop, supervise
from controller.csms_link import backoff as backoff
from controller.ocpp.boot import Boot
from controller.ocpp.core import Core, LinkState
from controller.ocpp.ports import Connection, SessionHost
from controller.ocpp.session import Session

log = logging.getLogger(__name__)

Opener = Callable[[], AbstractAsyncContextManager[Connection]]
FailureHandler = Callable[[Exception], None]


class Link(ReconnectLoop):
    def __init__(
        self,
        core: Core,
        boot: Boot,
        host: SessionHost,
        opener: Opener,
        on_failure: FailureHandler,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(core, rng)
        self._core = core
        self._boot = boot
        self._host = host
        self._open = opener
        self._on_failure = on_failure
        self.session: Session | None = None

    def _connecting(self) -> None:
        self._core.link_state = LinkState.CONNECTING

    def _offline(self) -> None:
        self._core.link_state = LinkState.OFFLINE
        self._core.session = None

    def _failed(self, exc: Exception) -> None:
        self._on_failure(exc)

    def _session_over(self) -> None:
        self._core.session = self._core.link_session = None
        self.session = None

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
            await supervise((reader, worker), self._session_over)
