"""The demo CSMS without an OCPP version: the server on loopback, the record of what charge
points sent, waiting for a message, and the answers 1.6 and 2.0.1 give alike.

One place, so the 1.6 demo, the 2.0.1 demo and the tests that read what a charger reported see
the same recording whichever version is on the wire; each version adds only its own messages
(`controller.demo.csms`, `controller.demo.csms201`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

import websockets
from ocpp.routing import after, on


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Received:
    at: datetime
    charge_point_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class Registry:
    received: list[Received] = field(default_factory=list)
    # Answers to the next BootNotifications, in order; then Accepted.
    boot_statuses: list[str] = field(default_factory=list)
    listeners: list[Callable[[Received], None]] = field(default_factory=list)
    transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, r: Received) -> None:
        self.received.append(r)
        for cb in list(self.listeners):
            cb(r)


class RecordingCentral:
    """One connected charge point, as the CSMS sees it: records what it sends. Mixed in before
    a version's `ChargePoint`, whose `call_result` module is `results`; the messages both
    versions define with the same answer are handled here."""

    results: ClassVar[Any]
    id: str

    def __init__(self, cp_id: str, connection: Any, registry: Registry) -> None:
        # The next class in the order is the version's ChargePoint (the ocpp library is untyped).
        cast(Any, super()).__init__(cp_id, connection, response_timeout=30)
        self._registry = registry

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self._registry.add(Received(datetime.now(UTC), self.id, action, payload))

    @after("BootNotification")
    def after_boot(self, **kw: Any) -> None:
        # Recorded once the answer is on the wire: whoever waits for the boot and then calls
        # the charger is behind the answer, as a CSMS is (the charger reads frames in order).
        self._record("BootNotification", kw)

    @on("Heartbeat")
    def on_heartbeat(self, **kw: Any) -> Any:
        self._record("Heartbeat", kw)
        return self.results.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    def on_status(self, **kw: Any) -> Any:
        self._record("StatusNotification", kw)
        return self.results.StatusNotification()

    @on("MeterValues")
    def on_meter_values(self, **kw: Any) -> Any:
        self._record("MeterValues", kw)
        return self.results.MeterValues()

    @on("SecurityEventNotification")
    def on_security_event(self, **kw: Any) -> Any:
        self._record("SecurityEventNotification", kw)
        return self.results.SecurityEventNotification()


class CsmsServer:
    """Listens on 127.0.0.1; `url` is what a charge point connects to (plus "/" + its id).
    `central` (a `RecordingCentral` of one version) and `subprotocol` choose the version."""

    def __init__(self, central: Any, subprotocol: str) -> None:
        self._central = central
        self._subprotocol = subprotocol
        self._registry = Registry()
        self._server: Any = None
        self._peers: dict[str, Any] = {}
        self._connected = asyncio.Event()
        self.url = ""

    @property
    def received(self) -> list[Received]:
        return self._registry.received

    @property
    def boot_statuses(self) -> list[str]:
        return self._registry.boot_statuses

    async def drop(self, cp_id: str) -> None:
        """Close the charge point's websocket, as a flaky network would."""
        peer = self._peers.get(cp_id)
        if peer is not None:
            await peer._connection.close()

    def subscribe(self, callback: Callable[[Received], None]) -> None:
        self._registry.listeners.append(callback)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await websockets.serve(
            self._handle, host, port, subprotocols=[websockets.Subprotocol(self._subprotocol)]
        )
        bound = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://{host}:{bound}/ocpp"
        return self.url

    async def _handle(self, ws: Any) -> None:
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        peer = self._central(cp_id, ws, self._registry)
        self._peers[cp_id] = peer
        self._connected.set()
        with contextlib.suppress(websockets.ConnectionClosed):
            await peer.start()
        if self._peers.get(cp_id) is peer:
            del self._peers[cp_id]

    async def wait_connected(self, cp_id: str, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while cp_id not in self._peers:
                self._connected.clear()
                await self._connected.wait()

    async def call(self, cp_id: str, request: Any, timeout_s: float = 30.0) -> Any:
        peer = self._peers[cp_id]
        async with asyncio.timeout(timeout_s):
            return await peer.call(request, suppress=False)

    async def wait_for(
        self,
        action: str,
        predicate: Callable[[Received], bool] = lambda r: True,
        timeout_s: float = 30.0,
        since: int = 0,
    ) -> Received:
        """The first message of `action` (from index `since` on) that matches `predicate`."""
        found = asyncio.get_running_loop().create_future()

        def check(r: Received) -> None:
            if not found.done() and r.action == action and predicate(r):
                found.set_result(r)

        for r in self._registry.received[since:]:
            check(r)
        self._registry.listeners.append(check)
        try:
            async with asyncio.timeout(timeout_s):
                result: Received = await found
                return result
        finally:
            self._registry.listeners.remove(check)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
