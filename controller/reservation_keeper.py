"""The reservations both OCPP adapters keep, written once: the two versions reserve, hold, end
and persist a reservation the same way, so a fix to one could not miss the other.

The decision is `controller.auth.reservations`'; the state is the station's `Reservations`
(a `StartGate`), persisted by `AuthDb`. A reservation ends with the transaction that fulfils
it (its id is in the started transaction), when cancelled, at its expiry, or when its
connector faults or is made unavailable. What stays in each adapter is the protocol's: the
request's fields, where the connector-0 switch is configured, whether the central system
hears of an end (`_ended`), the words of the log, and what else shares the timer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from controller.auth import Reservation, Reservations, ReserveStatus, reserve_verdict
from controller.auth.reservations import ConnectorState
from controller.ocpp.auth_db import AuthDb
from controller.station import ConnectorStates, EventKind, Events, Hardware, StationEvent
from hw.base import CpState


class EndKind(StrEnum):
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"
    REMOVED = "removed"  # its connector faulted or was made unavailable


class Station(Protocol):
    """What the keeper needs of an adapter's shared context."""

    @property
    def hardware(self) -> Hardware: ...
    @property
    def connectors(self) -> ConnectorStates: ...
    @property
    def events(self) -> Events: ...
    @property
    def reservations(self) -> Reservations: ...
    def now(self) -> datetime: ...


class ReservationKeeper:
    """`PLACE` names a connector in the log, `REMOVED_WHY` says why a fault ended one."""

    PLACE = "connector"
    REMOVED_WHY = "ended: the connector is faulted or unavailable"

    def __init__(
        self, station: Station, db: AuthDb, deadlines: asyncio.Event, log: logging.Logger
    ) -> None:
        self._station = station
        self._db = db
        self._deadlines = deadlines
        self._log = log
        held = station.reservations
        for r in db.reservations():
            if r.connector_id == 0 or r.connector_id in station.hardware.connector_ids:
                held.put(r)
        held.free_others = self._free_others
        self._holding: set[int] = set()  # the connectors last seen kept for a reservation
        station.connectors.add_gate(held)
        station.events.subscribe(self._on_event)

    def _in_session(self, connector_id: int) -> bool:
        raise NotImplementedError

    def _ended(self, reservation: Reservation, kind: EndKind) -> None:
        """Called once a reservation is gone, before the connector's change is announced."""

    def _state(self, connector_id: int) -> ConnectorState:
        s = self._station
        status = s.hardware.snapshot(connector_id).status
        return ConnectorState(
            faulted=status.fault is not None,
            operative=s.connectors.operative(connector_id),
            available=not self._in_session(connector_id)
            and status.cp_state is CpState.A
            and not s.connectors.finishing(connector_id)
            and not s.connectors.authorized(connector_id),
        )

    def _free_others(self, connector_id: int) -> int:
        held, n = self._station.reservations, 0
        for cid in self._station.hardware.connector_ids:
            s = self._state(cid)
            if cid != connector_id and s.available and s.operative and not s.faulted:
                n += held.on_connector(cid) is None
        return n

    def _changed(self, connector_id: int) -> None:
        s = self._station
        for cid in s.hardware.connector_ids if connector_id == 0 else [connector_id]:
            s.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
        self._deadlines.set()

    def _reserve(self, req: Reservation, *, zero_supported: bool) -> ReserveStatus:
        s = self._station
        status = reserve_verdict(
            req,
            s.reservations,
            {cid: self._state(cid) for cid in s.hardware.connector_ids},
            zero_supported=zero_supported,
            now=s.now(),
        )
        self._log.info(
            f"ReserveNow %d on {self.PLACE} %d for %s: %s",
            req.reservation_id,
            req.connector_id,
            req.id_tag,
            status.value,
        )
        if status is not ReserveStatus.ACCEPTED:
            return status
        old = s.reservations.remove(req.reservation_id)
        s.reservations.put(req)
        self._db.reservation_put(req)
        if old is not None and old.connector_id != req.connector_id:
            self._changed(old.connector_id)
        self._changed(req.connector_id)
        return status

    def cancel(self, reservation_id: int) -> bool:
        return self._end(reservation_id, EndKind.CANCELLED, "cancelled")

    def _end(self, reservation_id: int, kind: EndKind, why: str) -> bool:
        r = self._station.reservations.remove(reservation_id)
        if r is None:
            return False
        self._log.info(f"reservation %d on {self.PLACE} %d %s", reservation_id, r.connector_id, why)
        self._db.reservation_delete(reservation_id)
        self._ended(r, kind)
        self._changed(r.connector_id)
        return True

    def _expire_due(self, now: datetime) -> None:
        for r in self._station.reservations.all():
            if r.expiry <= now:
                self._end(r.reservation_id, EndKind.EXPIRED, "expired")

    def _on_event(self, event: StationEvent) -> None:
        tx = event.transaction
        if event.kind is EventKind.TRANSACTION_STARTED and tx and tx.reservation_id is not None:
            self._end(tx.reservation_id, EndKind.FULFILLED, f"fulfilled by {tx.id_tag}")
        elif event.kind in (EventKind.CONNECTOR_CHANGED, EventKind.AVAILABILITY_CHANGED):
            r = self._station.reservations.on_connector(event.connector_id)
            if r is not None:
                state = self._state(event.connector_id)
                if state.faulted or not state.operative:
                    self._end(r.reservation_id, EndKind.REMOVED, self.REMOVED_WHY)
            self._show_holds(event.connector_id)
        elif event.kind is EventKind.AUTHORIZATION_EXPIRED:
            self._show_holds(event.connector_id)

    def _show_holds(self, changed: int) -> None:
        """A connector-0 reservation keeps whichever connector is the last one free, so a
        change on one connector can make another one Reserved or free it: announce those
        others now, not at their own next change."""
        s = self._station
        for cid in s.hardware.connector_ids:
            if s.reservations.holds(cid) != (cid in self._holding):
                self._holding ^= {cid}
                if cid != changed:
                    s.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
