"""StatusNotification: each connector's status, derived, remembered and sent when it changes."""

from __future__ import annotations

import asyncio

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from controller.ocpp.core import Core, utc_iso
from controller.ocpp.ports import Caller
from controller.ocpp.status import ConnectorStatus, connector_status
from controller.ocpp.tx_watch import NO_METER_TEXT
from controller.station import EventKind, StationEvent


class Statuses:
    def __init__(self, core: Core) -> None:
        self._core = core
        self._status: dict[int, ConnectorStatus] = {}
        self._sent: dict[int, ConnectorStatus] = {}
        # One send at a time: a change that comes while the previous status is on its way is
        # compared with what was sent, not with what was sent before that (Reserved then
        # Available again must not end as Reserved at the central system).
        self._sending = asyncio.Lock()
        core.events.subscribe(self._on_event)

    def _on_event(self, event: StationEvent) -> None:
        # Parts emit CONNECTOR_CHANGED once a change is complete, so a stop that also ends
        # a scheduled availability change is one StatusNotification, not two.
        if event.kind in (EventKind.CONNECTOR_CHANGED, EventKind.AUTHORIZATION_EXPIRED):
            self.update(event.connector_id)
        if event.kind in (EventKind.CONNECTOR_CHANGED, EventKind.AVAILABILITY_CHANGED):
            self._update_station()

    def _update_station(self) -> None:
        """Connector 0 (the charge point itself) has a status of its own: Unavailable once
        no connector is operative (ChangeAvailability on 0 or on each). Sent when it changes
        (OCPP 1.6 §5.2), like every connector's."""
        status = self._station_status()
        if self._status.get(0) != status:
            self._status[0] = status
            self.push(0)

    def current(self, connector_id: int) -> str:
        status = self._status.get(connector_id)
        return "-" if status is None else status[0].value

    def _derive(self, connector_id: int) -> ConnectorStatus:
        c = self._core
        return connector_status(
            c.hardware.snapshot(connector_id).status,
            in_transaction=connector_id in c.book,
            operative=c.connectors.operative(connector_id),
            finishing=c.connectors.finishing(connector_id),
            authorized=c.connectors.authorized(connector_id),
            reserved=c.reservations.holds(connector_id),
        )

    def update(self, connector_id: int) -> None:
        status = self._derive(connector_id)
        if self._status.get(connector_id) != status:
            self._status[connector_id] = status
            self.push(connector_id)

    def push(self, connector_id: int, force: bool = False) -> None:
        """Send in the background, if the link is up."""
        caller = self._core.caller()
        if caller is not None:
            self._core.spawn(self.send(caller, connector_id, force), "status")

    def local_list_conflict(self, id_tag: str) -> None:
        """Connector 0 with errorCode LocalListConflict: the local list said one thing of
        `id_tag`, the central system's StartTransaction answer another (OCPP 1.6 §3.5.2)."""
        caller = self._core.caller()
        if caller is not None:
            self._core.spawn(self._send_conflict(caller, id_tag), "status")

    async def _send_conflict(self, caller: Caller, id_tag: str) -> None:
        async with self._sending:
            await caller.call(
                call.StatusNotification(
                    connector_id=0,
                    error_code=ChargePointErrorCode.local_list_conflict,
                    status=self._station_status()[0],
                    timestamp=utc_iso(self._core.now()),
                    info=f"local list differs for {id_tag}"[:50],
                ),
                suppress=False,
            )

    def link_up(self) -> None:
        self._sent.clear()

    def _station_status(self) -> ConnectorStatus:
        if not self._core.connectors.any_operative():
            return ChargePointStatus.unavailable, ChargePointErrorCode.no_error
        return ChargePointStatus.available, ChargePointErrorCode.no_error

    async def send(self, caller: Caller, connector_id: int, force: bool = False) -> None:
        async with self._sending:
            await self._send(caller, connector_id, force)

    async def _send(self, caller: Caller, connector_id: int, force: bool) -> None:
        if connector_id == 0:
            status = self._status[0] = self._station_status()
        else:
            status = self._status.setdefault(connector_id, self._derive(connector_id))
        if not force and self._sent.get(connector_id) == status:
            return
        info = None
        if connector_id != 0:
            fault = self._core.hardware.snapshot(connector_id).status.fault
            if fault is not None:
                info = fault.text[:50]
            elif self._core.watch.meter_missing(connector_id):
                info = NO_METER_TEXT[:50]
        # Recorded before the answer comes: a change back while this one is on its way (an
        # Inoperative quickly undone) must still be sent, not taken for the old one.
        self._sent[connector_id] = status
        try:
            await caller.call(
                call.StatusNotification(
                    connector_id=connector_id,
                    error_code=status[1],
                    status=status[0],
                    timestamp=utc_iso(self._core.now()),
                    info=info,
                ),
                suppress=False,
            )
        except BaseException:
            if self._sent.get(connector_id) == status:
                del self._sent[connector_id]  # not known to have arrived: send it again
            raise
