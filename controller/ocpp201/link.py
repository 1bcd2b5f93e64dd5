"""The link to a 2.0.1 CSMS: the websocket (subprotocol `ocpp2.0.1`), connect, run one
session, reconnect forever on the loop shared with 1.6 (`controller.csms_link`).

The transport is injected as in 1.6: `opener()` yields any `Connection`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

import websockets

from controller.csms_link import ReconnectLoop, supervise
from controller.csms_ws import basic_auth, open_websocket, ssl_context
from controller.ocpp.core import LinkState
from controller.ocpp.ports import Connection
from controller.ocpp.settings import OcppSettings
from controller.ocpp201.context import Context
from controller.ocpp201.ports import Host
from controller.ocpp201.session import Session201

log = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp2.0.1"

Opener = Callable[[], AbstractAsyncContextManager[Connection]]
SessionMain = Callable[[Session201], Coroutine[Any, Any, None]]


class WebsocketOpener:
    def __init__(self, settings_of: Callable[[], OcppSettings]) -> None:
        self._settings_of = settings_of

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Connection]:
        s = self._settings_of()
        async with open_websocket(
            f"{s.url}/{s.charge_point_id}",
            SUBPROTOCOL,
            basic_auth(s.charge_point_id, s.password),
            ssl_context(s),
            s.ping_interval_s,
        ) as ws:
            yield cast(Connection, ws)


class Link(ReconnectLoop):
    def __init__(
        self,
        ctx: Context,
        host: Host,
        opener: Opener,
        session_main: SessionMain,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(ctx, rng)
        self._ctx = ctx
        self._host = host
        self._open = opener
        self._main = session_main

    def _connecting(self) -> None:
        self._ctx.link_state = LinkState.CONNECTING

    def _offline(self) -> None:
        self._ctx.link_state = LinkState.OFFLINE
        self._ctx.session = None

    def _failed(self, exc: Exception) -> None:
        c = self._ctx
        if isinstance(exc, websockets.InvalidStatus):
            code = exc.response.status_code
            log.warning("CSMS refused the connection: HTTP %d", code)
            if code == 401:
                c.security_event("FailedToAuthenticateAtCsms", f"HTTP {code}")
        elif isinstance(exc, ssl.SSLCertVerificationError):
            log.warning("CSMS certificate not trusted: %s", exc.verify_message)
            c.security_event("InvalidCsmsCertificate", exc.verify_message)
        else:
            log.warning("CSMS link: %s: %s", type(exc).__name__, exc)

    def _session_over(self) -> None:
        self._ctx.session = None

    async def _reconnect_asked(self) -> None:
        """Ends when the CSMS's new settings (a password) need a new connection."""
        await self._ctx.reconnect.wait()
        log.info("closing the connection to connect anew")

    async def _connect_once(self) -> None:
        c = self._ctx
        async with self._open() as connection:
            self.connects += 1
            c.link_state = LinkState.CONNECTED
            session = Session201(
                self._host, c.settings.charge_point_id, connection, c.settings.call_timeout_s
            )
            c.reconnect.clear()
            reader = asyncio.create_task(session.start(), name="ocpp201-reader")
            worker = asyncio.create_task(self._main(session), name="ocpp201-session")
            again = asyncio.create_task(self._reconnect_asked(), name="ocpp201-reconnect")
            await supervise((reader, worker, again), self._session_over)
