"""A small CSMS on the `ocpp` library's central-system side, for `chargectl demo`.

It accepts any charge point, answers what a charge point sends (boot, heartbeat, status,
authorisation, transactions, meter values) and records every message, so the demo can drive the
story with CSMS-initiated calls and show what the charger reported back. It is a real OCPP peer
over a real websocket on 127.0.0.1, not a shortcut into the charger's internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
)

log = logging.getLogger(__name__)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Received:
    at: datetime
    charge_point_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class _Registry:
    received: list[Received] = field(default_factory=list)
    # Answers to the next BootNotifications, in order; then Accepted.
    boot_statuses: list[str] = field(default_factory=list)
    listeners: list[Callable[[Received], None]] = field(default_factory=list)
    transaction_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, r: Received) -> None:
        self.received.append(r)
        for cb in list(self.listeners):
            cb(r)


class _CentralSide(ChargePoint):  # type: ignore[misc]
    """One connected charge point, as the CSMS sees it."""

    def __init__(self, cp_id: str, connection: Any, registry: _Registry) -> None:
        super().__init__(cp_id, connection, response_timeout=30)
        self._registry = registry

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self._registry.add(Received(datetime.now(UTC), self.id, action, payload))

    @on(Action.boot_notification)
    def on_boot(self, **kw: Any) -> call_result.BootNotification:
        status = (
            self._registry.boot_statuses.pop(0)
            if self._registry.boot_statuses
            else RegistrationStatus.accepted
        )
        interval = 300 if status == RegistrationStatus.accepted else 1
        return call_result.BootNotification(
            current_time=_now_iso(), interval=interval, status=status
        )

    @after(Action.boot_notification)
    def after_boot(self, **kw: Any) -> None:
        # Recorded once the answer is on the wire: whoever waits for the boot and then calls
        # the charger is behind the answer, as a CSMS is (the charger reads frames in order).
        self._record("BootNotification", kw)

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw: Any) -> call_result.Heartbeat:
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time=_now_iso())

    @on(Action.status_notification)
    def on_status(self, **kw: Any) -> call_result.StatusNotification:
        self._record("StatusNotification", kw)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **kw: Any) -> call_result.Authorize:
        self._record("Authorize", kw)
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start(self, **kw: Any) -> call_result.StartTransaction:
        tx_id = next(self._registry.transaction_ids)
        self._record("StartTransaction", {**kw, "_assigned_transaction_id": tx_id})
        return call_result.StartTransaction(
            transaction_id=tx_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.stop_transaction)
    def on_stop(self, **kw: Any) -> call_result.StopTransaction:
        self._record("StopTransaction", kw)
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter_values(self, **kw: Any) -> call_result.MeterValues:
        self._record("MeterValues", kw)
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, **kw: Any) -> call_result.DataTransfer:
        self._record("DataTransfer", kw)
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.security_event_notification)
    def on_security_event(self, **kw: Any) -> call_result.SecurityEventNotification:
        self._record("SecurityEventNotification", kw)
        return call_result.SecurityEventNotification()


class DemoCsms:
    """Listens on 127.0.0.1; `url` is what a charge point connects to (plus "/" + its id).
    `central` and `subprotocol` choose the OCPP version (`csms201` for 2.0.1)."""

    def __init__(self, central: Any = _CentralSide, subprotocol: str = "ocpp1.6") -> None:
        self._central = central
        self._subprotocol = subprotocol
        self._registry = _Registry()
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
