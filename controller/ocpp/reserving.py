"""ReserveNow and CancelReservation on the station: the decision is `controller.auth`'s, the
state is `Core.reservations` (a `StartGate` of the station), persisted by `AuthDb`.

A reservation ends with the transaction that fulfils it (its id is in the StartTransaction),
at its expiryDate (the connector goes back to Available, StatusNotification), when cancelled,
or when its connector faults or is made unavailable. `run` is the one timer of local
authorization: reservation expiry and ConnectionTimeOut (`conn_timeout`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from controller.auth import Reservation, ReserveStatus, reserve_verdict
from controller.auth.reservations import ConnectorState
from controller.ocpp.auth_db import AuthDb
from controller.ocpp.conn_timeout import ConnectionTimeout
from controller.ocpp.core import Core
from controller.station import EventKind, StationEvent
from hw.base import CpState

log = logging.getLogger(__name__)


class ReservationFlow:
    def __init__(self, core: Core, db: AuthDb) -> None:
        self._core = core
        self._db = db
        self._timeout = ConnectionTimeout(core)
        held = core.reservations
        for r in db.reservations():
            if r.connector_id == 0 or r.connector_id in core.hardware.connector_ids:
                held.put(r)
        held.free_others = self._free_others
        core.connectors.add_gate(held)
        core.events.subscribe(self._on_event)

    def _state(self, connector_id: int) -> ConnectorState:
        c = self._core
        status = c.hardware.snapshot(connector_id).status
        return ConnectorState(
            faulted=status.fault is not None,
            operative=c.connectors.operative(connector_id),
            available=connector_id not in c.book
            and status.cp_state is CpState.A
            and not c.connectors.finishing(connector_id)
            and not c.connectors.authorized(connector_id),
        )

    def _free_others(self, connector_id: int) -> int:
        held = self._core.reservations
        n = 0
        for cid in self._core.hardware.connector_ids:
            s = self._state(cid)
            if cid != connector_id and s.available and s.operative and not s.faulted:
                n += held.on_connector(cid) is None
        return n

    def _changed(self, connector_id: int) -> None:
        c = self._core
        for cid in c.hardware.connector_ids if connector_id == 0 else [connector_id]:
            c.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
        c.deadlines_changed.set()

    def reserve(
        self,
        connector_id: int,
        expiry: datetime,
        id_tag: str,
        parent_id_tag: str | None,
        reservation_id: int,
    ) -> ReserveStatus:
        c = self._core
        req = Reservation(reservation_id, connector_id, id_tag, parent_id_tag, expiry)
        status = reserve_verdict(
            req,
            c.reservations,
            {cid: self._state(cid) for cid in c.hardware.connector_ids},
            zero_supported=c.keys.get_bool("ReserveConnectorZeroSupported"),
            now=c.now(),
        )
        log.info(
            "ReserveNow %d on connector %d for %s: %s",
            reservation_id,
            connector_id,
            id_tag,
            status.value,
        )
        if status is not ReserveStatus.ACCEPTED:
            return status
        old = c.reservations.remove(reservation_id)
        c.reservations.put(req)
        self._db.reservation_put(req)
        if old is not None and old.connector_id != connector_id:
            self._changed(old.connector_id)
        self._changed(connector_id)
        return status

    def cancel(self, reservation_id: int) -> bool:
        return self._end(reservation_id, "cancelled")

    def _end(self, reservation_id: int, why: str) -> bool:
        r = self._core.reservations.remove(reservation_id)
        if r is None:
            return False
        log.info("reservation %d on connector %d %s", reservation_id, r.connector_id, why)
        self._db.reservation_delete(reservation_id)
        self._changed(r.connector_id)
        return True

    def _on_event(self, event: StationEvent) -> None:
        tx = event.transaction
        if event.kind is EventKind.TRANSACTION_STARTED and tx and tx.reservation_id is not None:
            self._end(tx.reservation_id, f"fulfilled by {tx.id_tag}")
        elif event.kind in (EventKind.CONNECTOR_CHANGED, EventKind.AVAILABILITY_CHANGED):
            r = self._core.reservations.on_connector(event.connector_id)
            state = self._state(event.connector_id) if r is not None else None
            if r is not None and state is not None and (state.faulted or not state.operative):
                self._end(r.reservation_id, "ended: the connector is faulted or unavailable")

    def tick(self) -> float | None:
        """Expire what is due; the next deadline, in monotonic seconds."""
        c = self._core
        now, mono = c.now(), c.clock.monotonic()
        for r in c.reservations.all():
            if r.expiry <= now:
                self._end(r.reservation_id, "expired")
        deadlines = [self._timeout.tick()]
        nxt = c.reservations.next_expiry()
        if nxt is not None:
            deadlines.append(mono + max(0.0, (nxt - now).total_seconds()))
        return min((d for d in deadlines if d is not None), default=None)

    async def run(self) -> None:
        c = self._core
        while True:
            c.deadlines_changed.clear()
            nxt = self.tick()
            wait = None if nxt is None else max(0.05, nxt - c.clock.monotonic())
            await c.timers.wait(c.deadlines_changed, wait)
