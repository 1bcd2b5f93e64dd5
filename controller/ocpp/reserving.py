"""ReserveNow and CancelReservation in OCPP 1.6's words, on the keeper both adapters share
(`controller.reservation_keeper`): the decision is `controller.auth`'s, the state is
`Core.reservations` (a `StartGate` of the station), persisted by `AuthDb`.

A reservation ends with the transaction that fulfils it (its id is in the StartTransaction),
at its expiryDate (the connector goes back to Available, StatusNotification), when cancelled,
or when its connector faults or is made unavailable; 1.6 tells the central system nothing
more. `run` is the one timer of local authorization: reservation expiry and ConnectionTimeOut
(`conn_timeout`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from controller.auth import Reservation, ReserveStatus
from controller.ocpp.auth_db import AuthDb
from controller.ocpp.conn_timeout import ConnectionTimeout
from controller.ocpp.core import Core
from controller.reservation_keeper import ReservationKeeper

log = logging.getLogger(__name__)


class ReservationFlow(ReservationKeeper):
    def __init__(self, core: Core, db: AuthDb) -> None:
        self._core = core
        self._timeout = ConnectionTimeout(core)
        super().__init__(core, db, core.deadlines_changed, log)

    def _in_session(self, connector_id: int) -> bool:
        return connector_id in self._core.book

    def reserve(
        self,
        connector_id: int,
        expiry: datetime,
        id_tag: str,
        parent_id_tag: str | None,
        reservation_id: int,
    ) -> ReserveStatus:
        req = Reservation(reservation_id, connector_id, id_tag, parent_id_tag, expiry)
        zero = self._core.keys.get_bool("ReserveConnectorZeroSupported")
        return self._reserve(req, zero_supported=zero)

    def tick(self) -> float | None:
        """Expire what is due; the next deadline, in monotonic seconds."""
        c = self._core
        now, mono = c.now(), c.clock.monotonic()
        self._expire_due(now)
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
