"""The websocket transport of the 1.6 link: the ocpp1.6 subprotocol, the password the CSMS may
set, the security profile that refuses a transport, and what a failed connection means (a 401
and an untrusted certificate are security events). TLS, Basic auth and the websocket's limits
are those of both versions (`controller.csms_ws`)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import cast

import websockets

from controller.csms_ws import basic_auth, open_websocket, ssl_context
from controller.ocpp.config_keys import ConfigKeys
from controller.ocpp.ports import Connection
from controller.ocpp.security import Transport, connect_refusal
from controller.ocpp.settings import OcppSettings

log = logging.getLogger(__name__)

SecurityEvent = Callable[[str, str | None], None]


def auth_header(settings: OcppSettings, keys: ConfigKeys) -> dict[str, str]:
    # A password the CSMS set (AuthorizationKey) replaces the configured one.
    password = keys.get("AuthorizationKey") or settings.password
    return basic_auth(settings.charge_point_id, password)


class WebsocketOpener:
    def __init__(self, settings_of: Callable[[], OcppSettings], keys: ConfigKeys) -> None:
        # Read at each connect: the settings may be replaced while the service runs.
        self._settings_of = settings_of
        self._keys = keys

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Connection]:
        settings = self._settings_of()
        refusal = connect_refusal(self._keys.get_int("SecurityProfile"), Transport.of(settings))
        if refusal is not None:
            raise ConnectionRefusedError(refusal)
        async with open_websocket(
            f"{settings.url}/{settings.charge_point_id}",
            "ocpp1.6",
            auth_header(settings, self._keys),
            ssl_context(settings),
            self._keys.get_int("WebSocketPingInterval") or None,
        ) as ws:
            # recv() is overloaded (text or bytes); the subprotocol is text frames only.
            yield cast(Connection, ws)


def failure_reporter(security_event: SecurityEvent) -> Callable[[Exception], None]:
    def report(exc: Exception) -> None:
        if isinstance(exc, websockets.InvalidStatus):
            code = exc.response.status_code
            log.warning("CSMS refused the connection: HTTP %d", code)
            if code == 401:
                security_event("FailedToAuthenticateAtCentralSystem", f"HTTP {code}")
        elif isinstance(exc, ssl.SSLCertVerificationError):
            log.warning("CSMS certificate not trusted: %s", exc.verify_message)
            security_event("InvalidCentralSystemCertificate", exc.verify_message)
        else:
            log.warning("CSMS link: %s: %s", type(exc).__name__, exc)

    return report
