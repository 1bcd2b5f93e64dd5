"""ConnectionTimeOut, both ways (OCPP 1.6 errata 3.20/3.21/3.89).

Tag first: the authorization lapses after ConnectionTimeOut (`ConnectorStates.expire`)
and the connector goes back to Available. Plug first: a car waiting that long for a tag puts
the connector in Finishing (transition B6), not Available; unplugging makes it Available
again. The errata's reason (a swipe must not start on a cable left in the socket) does not
hold where the pilot tells a car from a bare cable, so a card or a RemoteStart that comes
later still starts (`ConnectorStates.resume_after_timeout`): a CSMS that answered Accepted to
a driver's app is not left with a session that never begins.

`tick` is called by the reservation timer (`reserving`); it returns the next monotonic deadline.
"""

from __future__ import annotations

import logging

from controller.ocpp.core import Core
from controller.station import EventKind, StationEvent
from hw.base import CpState

log = logging.getLogger(__name__)


class ConnectionTimeout:
    def __init__(self, core: Core) -> None:
        self._core = core
        self._plugged_since: dict[int, float] = {}
        core.events.subscribe(self._on_event)

    def _waiting_for_tag(self, connector_id: int) -> bool:
        c = self._core
        return (
            c.hardware.snapshot(connector_id).status.cp_state in (CpState.B, CpState.C, CpState.D)
            and connector_id not in c.book
            and not c.connectors.finishing(connector_id)
            and not c.connectors.authorized(connector_id)
            and c.connectors.operative(connector_id)
            and not c.settings.free_vend_id_tag
        )

    def _on_event(self, event: StationEvent) -> None:
        if event.kind is not EventKind.CONNECTOR_CHANGED:
            return
        cid = event.connector_id
        if self._waiting_for_tag(cid):
            if cid not in self._plugged_since:
                self._plugged_since[cid] = self._core.clock.monotonic()
                self._core.deadlines_changed.set()
        else:
            self._plugged_since.pop(cid, None)

    def tick(self) -> float | None:
        c = self._core
        mono = c.clock.monotonic()
        timeout_s = c.keys.get_int("ConnectionTimeOut")
        deadlines: list[float] = []
        for cid in c.connectors.expire(mono):  # tells the listeners (the status goes back)
            log.info("connector %d: no car within ConnectionTimeOut; tag forgotten", cid)
        for cid in c.hardware.connector_ids:
            auth = c.connectors.authorization(cid, mono)
            if auth is not None and cid not in c.book:
                deadlines.append(auth.expires_mono)
            since = self._plugged_since.get(cid)
            if since is None:
                continue
            if not self._waiting_for_tag(cid):
                del self._plugged_since[cid]
            elif mono >= since + timeout_s:
                log.info("connector %d: no tag within ConnectionTimeOut; Finishing", cid)
                del self._plugged_since[cid]
                c.connectors.set_finishing(cid, True, timed_out=True)
                c.events.emit(StationEvent(EventKind.CONNECTOR_CHANGED, cid))
            else:
                deadlines.append(since + timeout_s)
        return min(deadlines, default=None)
