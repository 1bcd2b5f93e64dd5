"""H: ReserveNow and CancelReservation on the shared reservation machinery
(`controller.auth.reservations`: the decision, and the station's `StartGate`), persisted in
the reservations table `AuthDb` keeps in ocpp201.sqlite.

A reservation names an EVSE, or none (ReservationCtrlr.NonEvseSpecific: any EVSE, 1.6's
connector 0). It holds its EVSE for its idToken or its groupIdToken; it ends with the
transaction that fulfils it (the Started event carries its id), when cancelled (nothing is
sent), at its expiry (ReservationStatusUpdate Expired) or when its EVSE faults or is made
unavailable (ReservationStatusUpdate Removed). The tag it holds for is the idToken as the
flow's authorizations carry it; its group is the group's tag (`authorization.token_tag`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from controller.auth import Reservation, ReserveStatus, reserve_verdict
from controller.auth.reservations import ConnectorState
from controller.ocpp.auth_db import AuthDb
from controller.ocpp201.context import Context
from controller.station import EventKind, StationEvent
from controller.timestamps import utc_iso
from hw.base import CpState

log = logging.getLogger(__name__)

NON_EVSE_SPECIFIC = ("ReservationCtrlr", "NonEvseSpecific")


def reservation_document(r: Reservation) -> dict[str, Any]:
    """A reservation in `status --json`, as 1.6 shows it."""
    return {
        "reservation_id": r.reservation_id,
        "id_tag": r.id_tag,
        "parent_id_tag": r.parent_id_tag,
        "expiry": utc_iso(r.expiry),
    }


class Reserving:
    def __init__(self, ctx: Context, db: AuthDb) -> None:
        self._ctx = ctx
        self._db = db
        self._changed_deadlines = asyncio.Event()
        held = ctx.reservations
        for r in db.reservations():
            if r.connector_id == 0 or r.connector_id in ctx.hardware.connector_ids:
                held.put(r)
        held.free_others = self._free_others
        ctx.connectors.add_gate(held)
        ctx.events.subscribe(self._on_event)

    def _state(self, evse_id: int) -> ConnectorState:
        c = self._ctx
        status = c.hardware.snapshot(evse_id).status
        return ConnectorState(
            faulted=status.fault is not None,
            operative=c.connectors.operative(evse_id),
            available=evse_id not in c.transactions
            and status.cp_state is CpState.A
            and not c.connectors.finishing(evse_id)
            and not c.connectors.authorized(evse_id),
        )

    def _free_others(self, evse_id: int) -> int:
        held, n = self._ctx.reservations, 0
        for cid in self._ctx.hardware.connector_ids:
            s = self._state(cid)
            if cid != evse_id and s.available and s.operative and not s.faulted:
                n += held.on_connector(cid) is None
        return n

    def _changed(self, evse_id: int) -> None:
        c = self._ctx
        for cid in c.hardware.connector_ids if evse_id == 0 else [evse_id]:
            c.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
        self._changed_deadlines.set()

    def reserve(
        self, reservation_id: int, expiry: datetime, id_token: str, group: str | None, evse: int
    ) -> ReserveStatus:
        c = self._ctx
        req = Reservation(reservation_id, evse, id_token, group, expiry)
        status = reserve_verdict(
            req,
            c.reservations,
            {cid: self._state(cid) for cid in c.hardware.connector_ids},
            zero_supported=c.variables.get_bool(NON_EVSE_SPECIFIC),
            now=c.now(),
        )
        log.info("ReserveNow %d on EVSE %d for %s: %s", reservation_id, evse, id_token, status)
        if status is not ReserveStatus.ACCEPTED:
            return status
        old = c.reservations.remove(reservation_id)
        c.reservations.put(req)
        self._db.reservation_put(req)
        if old is not None and old.connector_id != evse:
            self._changed(old.connector_id)
        self._changed(evse)
        return status

    def cancel(self, reservation_id: int) -> bool:
        return self._end(reservation_id, "cancelled", None)

    def _end(self, reservation_id: int, why: str, update: str | None) -> bool:
        r = self._ctx.reservations.remove(reservation_id)
        if r is None:
            return False
        log.info("reservation %d on EVSE %d %s", reservation_id, r.connector_id, why)
        self._db.reservation_delete(reservation_id)
        if update is not None:  # queued: the CSMS hears of it after an outage too
            payload = {"reservation_id": reservation_id, "reservation_update_status": update}
            self._ctx.db.enqueue("ReservationStatusUpdate", payload)
            self._ctx.outbox_event.set()
        self._changed(r.connector_id)
        return True

    def _on_event(self, event: StationEvent) -> None:
        tx = event.transaction
        if event.kind is EventKind.TRANSACTION_STARTED and tx and tx.reservation_id is not None:
            self._end(tx.reservation_id, f"fulfilled by {tx.id_tag}", None)
        elif event.kind in (EventKind.CONNECTOR_CHANGED, EventKind.AVAILABILITY_CHANGED):
            r = self._ctx.reservations.on_connector(event.connector_id)
            if r is not None:
                state = self._state(event.connector_id)
                if state.faulted or not state.operative:
                    self._end(r.reservation_id, "removed: EVSE faulted or unavailable", "Removed")

    async def run(self) -> None:
        """Expire reservations at their expiryDateTime (H01.FR.18: Expired)."""
        c = self._ctx
        while True:
            self._changed_deadlines.clear()
            now = c.now()
            for r in c.reservations.all():
                if r.expiry <= now:
                    self._end(r.reservation_id, "expired", "Expired")
            nxt = c.reservations.next_expiry()
            wait = None if nxt is None else max(0.05, (nxt - c.now()).total_seconds())
            await c.timers.wait(self._changed_deadlines, wait)
