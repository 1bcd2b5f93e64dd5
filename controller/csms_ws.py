"""The websocket to a CSMS as both OCPP versions open it: HTTP Basic auth, TLS, the limits and
the subprotocol the charger insists on.

One place, so 1.6 and 2.0.1 present themselves to a back office the same way; what differs
(where the password and the ping interval come from, when a security profile refuses to
connect, what a failure is reported as) stays with each adapter. This module knows no OCPP
version.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

import websockets
from websockets.asyncio.client import ClientConnection, connect


class TlsFiles(Protocol):
    """Where the CSMS is and the files a TLS connection to it uses (`OcppSettings`, or the
    `[ocpp]` section of the configuration)."""

    @property
    def url(self) -> str: ...
    @property
    def ca_file(self) -> Path | None: ...
    @property
    def client_cert(self) -> Path | None: ...
    @property
    def client_key(self) -> Path | None: ...


def ssl_context(settings: TlsFiles) -> ssl.SSLContext | None:
    if not settings.url.startswith("wss://"):
        return None
    ctx = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.client_cert and settings.client_key:
        ctx.load_cert_chain(str(settings.client_cert), str(settings.client_key))
    return ctx


def basic_auth(identity: str, password: str | None) -> dict[str, str]:
    """The Authorization header of the websocket request; none without a password."""
    if not password:
        return {}
    token = f"{identity}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(token).decode()}


@asynccontextmanager
async def open_websocket(
    url: str,
    subprotocol: str,
    headers: dict[str, str],
    tls: ssl.SSLContext | None,
    ping_interval_s: float | None,
) -> AsyncIterator[ClientConnection]:
    """The open websocket, once the CSMS has selected `subprotocol`."""
    async with connect(
        url,
        subprotocols=[websockets.Subprotocol(subprotocol)],
        additional_headers=headers,
        ssl=tls,
        open_timeout=10,
        ping_interval=ping_interval_s,
        ping_timeout=ping_interval_s,
        close_timeout=5,
        proxy=None,
        max_size=4 * 1024 * 1024,
    ) as ws:
        if ws.subprotocol != subprotocol:
            raise ConnectionError(f"the CSMS did not select the {subprotocol} subprotocol")
        yield ws
