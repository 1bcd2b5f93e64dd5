"""The websocket transport of the link: TLS, Basic auth, the ocpp1.6 subprotocol, and what a
failed connection means (a 401 and an untrusted certificate are security events)."""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import cast

import websockets
from websockets.asyncio.client import connect

from controller.ocpp.config_keys import ConfigKeys
from controller.ocpp.ports import Connection
from controller.ocpp.security import Transport, connect_refusal
from controller.ocpp.settings import OcppSettings

log = logging.getLogger(__name__)

SecurityEvent = Callable[[str, str | None], None]


def ssl_context(settings: OcppSettings) -> ssl.SSLContext | None:
    if not settings.url.startswith("wss://"):
        return None
    ctx = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.client_cert and settings.client_key:
        ctx.load_cert_chain(str(settings.client_cert), str(settings.client_key))
    return ctx


def auth_header(settings: OcppSettings, keys: ConfigKeys) -> dict[str, str]:
    password = keys.get("AuthorizationKey") or settings.password
    if not password:
        return {}
    token = f"{settings.charge_point_id}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(token).decode()}


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
        ping = self._keys.get_int("WebSocketPingInterval") or None
        async with connect(
            f"{settings.url}/{settings.charge_point_id}",
            subprotocols=[websockets.Subprotocol("ocpp1.6")],
            additional_headers=auth_header(settings, self._keys),
            ssl=ssl_context(settings),
            open_timeout=10,
            ping_interval=ping,
            ping_timeout=ping,
            close_timeout=5,
            proxy=None,
            max_size=4 * 1024 * 1024,
        ) as ws:
            if ws.subprotocol != "ocpp1.6":
                raise ConnectionError("the CSMS did not select the ocpp1.6 subprotocol")
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
