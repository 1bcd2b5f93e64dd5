"""StatusNotification in 2.0.1: a connector is Available, Occupied, Unavailable or Faulted.

The charging states of 1.6's status (Preparing, Charging, SuspendedEV/EVSE, Finishing) moved
into TransactionEvent's chargingState; what is left is whether a car or a session occupies
the connector. Sent when it changes and to every new connection, not queued: a status is
current or worthless.
"""

from __future__ import annotations

from enum import StrEnum

from ocpp.v201 import call

from controller.ocpp201.context import Context
from controller.ocpp201.session import Session201
from controller.ocpp201.tx_events import CONNECTOR_OF_EVSE
from controller.station import EventKind, StationEvent
from controller.timestamps import utc_iso
from hw.base import EvseStatus


class ConnectorStatus(StrEnum):
    AVAILABLE = "Available"
    OCCUPIED = "Occupied"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    RESERVED = "Reserved"


def connector_status(
    status: EvseStatus, *, in_transaction: bool, operative: bool, reserved: bool = False
) -> ConnectorStatus:
    """Pure."""
    if status.fault is not None:
        return ConnectorStatus.FAULTED
    if not operative and not in_transaction:
        return ConnectorStatus.UNAVAILABLE
    if in_transaction or status.plugged_in:
        return ConnectorStatus.OCCUPIED
    return ConnectorStatus.RESERVED if reserved else ConnectorStatus.AVAILABLE


class Statuses:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._sent: dict[int, ConnectorStatus] = {}
        ctx.events.subscribe(self._on_event)

    def _on_event(self, event: StationEvent) -> None:
        if event.kind is EventKind.CONNECTOR_CHANGED:
            caller = self._ctx.caller()
            if caller is not None and self._sent.get(event.connector_id) != self.current(
                event.connector_id
            ):
                self._ctx.spawn(self.send(caller, event.connector_id), "status")

    def current(self, connector_id: int) -> ConnectorStatus:
        c = self._ctx
        return connector_status(
            c.hardware.snapshot(connector_id).status,
            in_transaction=connector_id in c.transactions,
            operative=c.connectors.operative(connector_id),
            reserved=c.reservations.holds(connector_id),
        )

    def link_up(self) -> None:
        self._sent.clear()

    async def send(self, caller: Session201, connector_id: int, force: bool = False) -> None:
        status = self.current(connector_id)
        if not force and self._sent.get(connector_id) == status:
            return
        self._sent[connector_id] = status
        await caller.call(
            call.StatusNotification(
                timestamp=utc_iso(self._ctx.now()),
                connector_status=status.value,
                evse_id=connector_id,
                connector_id=CONNECTOR_OF_EVSE,
            ),
            suppress=False,
        )
