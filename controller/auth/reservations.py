"""Reservations: a connector held for one idTag (or its group) until a time. Pure.

A reservation on connector 0 holds no connector in particular: the station keeps one free
connector per such reservation, so a tag that is not the reserved one may start only where
enough other connectors stay free. A reservation ends when its tag starts a transaction (the
StartTransaction carries its id), when cancelled, when replaced by one with the same id, at
its expiry, or when its connector faults or is made unavailable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from controller.auth.model import same_tag
from controller.station.model import Authorization

# A card no reservation admits: what `holds` asks the gate about.
_NOBODY = Authorization("", None, 0.0)


class ReserveStatus(StrEnum):
    """OCPP 1.6 ReservationStatus."""

    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


@dataclass(frozen=True, slots=True)
class Reservation:
    reservation_id: int
    connector_id: int  # 0: any connector of the station
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        return same_tag(id_tag, self.id_tag) or same_tag(parent_id_tag, self.parent_id_tag)


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """What a reservation decision needs to know of a connector."""

    faulted: bool
    operative: bool
    available: bool  # no session, no car, no authorization waiting: status Available


def reserve_verdict(
    req: Reservation,
    held: Reservations,
    connectors: Mapping[int, ConnectorState],
    *,
    zero_supported: bool,
    now: datetime,
) -> ReserveStatus:
    """The answer to a ReserveNow; a request reusing a held reservationId replaces that one
    (so that reservation does not count against the connector)."""
    if req.expiry <= now:
        return ReserveStatus.REJECTED
    others = [r for r in held.all() if r.reservation_id != req.reservation_id]
    if req.connector_id == 0:
        if not zero_supported:
            return ReserveStatus.REJECTED
        states = list(connectors.values())
        if states and all(s.faulted for s in states):
            return ReserveStatus.FAULTED
        if states and all(not s.operative for s in states):
            return ReserveStatus.UNAVAILABLE
        held_ids = {r.connector_id for r in others if r.connector_id != 0}
        free = [
            cid
            for cid, s in connectors.items()
            if s.available and s.operative and not s.faulted and cid not in held_ids
        ]
        zero = sum(1 for r in others if r.connector_id == 0)
        return ReserveStatus.ACCEPTED if len(free) > zero else ReserveStatus.OCCUPIED
    state = connectors.get(req.connector_id)
    if state is None:
        return ReserveStatus.REJECTED
    if state.faulted:
        return ReserveStatus.FAULTED
    if not state.operative:
        return ReserveStatus.UNAVAILABLE
    if any(r.connector_id == req.connector_id for r in others) or not state.available:
        return ReserveStatus.OCCUPIED
    return ReserveStatus.ACCEPTED


class Reservations:
    """The held reservations; also the station's `StartGate` for them. `free_others(cid)`
    counts the connectors other than `cid` free to serve a connector-0 reservation."""

    def __init__(
        self, held: Iterable[Reservation] = (), free_others: Callable[[int], int] = lambda _: 0
    ) -> None:
        self._held = {r.reservation_id: r for r in held}
        self.free_others = free_others

    def all(self) -> list[Reservation]:
        return sorted(self._held.values(), key=lambda r: r.reservation_id)

    def get(self, reservation_id: int) -> Reservation | None:
        return self._held.get(reservation_id)

    def on_connector(self, connector_id: int) -> Reservation | None:
        for r in self._held.values():
            if r.connector_id == connector_id:
                return r
        return None

    def put(self, reservation: Reservation) -> None:
        self._held[reservation.reservation_id] = reservation

    def remove(self, reservation_id: int) -> Reservation | None:
        return self._held.pop(reservation_id, None)

    def expire(self, now: datetime) -> list[Reservation]:
        gone = [r for r in self._held.values() if r.expiry <= now]
        for r in gone:
            del self._held[r.reservation_id]
        return gone

    def next_expiry(self) -> datetime | None:
        return min((r.expiry for r in self._held.values()), default=None)

    def claim(self, connector_id: int, id_tag: str, parent: str | None) -> Reservation | None:
        """The reservation a start of `id_tag` on `connector_id` fulfils, if any."""
        own = self.on_connector(connector_id)
        if own is not None and own.admits(id_tag, parent):
            return own
        for r in self.all():
            if r.connector_id == 0 and r.admits(id_tag, parent):
                return r
        return None

    def holds(self, connector_id: int) -> bool:
        """The connector is kept for a reservation: its own, or the last free one a
        connector-0 reservation needs. It shows Reserved."""
        return not self.may_start(connector_id, _NOBODY)

    def may_start(self, connector_id: int, auth: Authorization) -> bool:
        own = self.on_connector(connector_id)
        if own is not None:
            return own.admits(auth.id_tag, auth.parent_id_tag)
        zero = [r for r in self._held.values() if r.connector_id == 0]
        if not zero or any(r.admits(auth.id_tag, auth.parent_id_tag) for r in zero):
            return True
        return self.free_others(connector_id) >= len(zero)
