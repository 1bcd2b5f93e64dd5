"""H: ReserveNow and CancelReservation in 2.0.1's words, on the keeper both adapters share
(`controller.reservation_keeper`: the decision, the station's `StartGate`, the reservations
table `AuthDb` keeps in ocpp201.sqlite).

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

from controller.auth import Reservation, ReserveStatus
from controller.ocpp.auth_db import AuthDb
from controller.ocpp201.context import Context
from controller.reservation_keeper import EndKind, ReservationKeeper

log = logging.getLogger(__name__)

NON_EVSE_SPECIFIC = ("ReservationCtrlr", "NonEvseSpecific")

# The ends the CSMS hears of (ReservationStatusUpdate); a cancel or a start it knows already.
_UPDATES = {EndKind.EXPIRED: "Expired", EndKind.REMOVED: "Removed"}


class Reserving(ReservationKeeper):
    PLACE = "EVSE"
    REMOVED_WHY = "removed: EVSE faulted or unavailable"

    def __init__(self, ctx: Context, db: AuthDb) -> None:
        self._ctx = ctx
        super().__init__(ctx, db, asyncio.Event(), log)

    def _in_session(self, connector_id: int) -> bool:
        return connector_id in self._ctx.transactions

    def _ended(self, reservation: Reservation, kind: EndKind) -> None:
        update = _UPDATES.get(kind)
        if update is not None:  # queued: the CSMS hears of it after an outage too
            payload = {
                "reservation_id": reservation.reservation_id,
                "reservation_update_status": update,
            }
            self._ctx.db.enqueue("ReservationStatusUpdate", payload)
            self._ctx.outbox_event.set()

    def reserve(
        self, reservation_id: int, expiry: datetime, id_token: str, group: str | None, evse: int
    ) -> ReserveStatus:
        req = Reservation(reservation_id, evse, id_token, group, expiry)
        zero = self._ctx.variables.get_bool(NON_EVSE_SPECIFIC)
        return self._reserve(req, zero_supported=zero)

    async def run(self) -> None:
        """Expire reservations at their expiryDateTime (H01.FR.18: Expired)."""
        c = self._ctx
        while True:
            self._deadlines.clear()
            self._expire_due(c.now())
            nxt = c.reservations.next_expiry()
            wait = None if nxt is None else max(0.05, (nxt - c.now()).total_seconds())
            await c.timers.wait(self._deadlines, wait)
