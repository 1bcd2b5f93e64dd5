"""The dashboard's controls and view, implemented on the running charger.

Kept apart from the composition root so the web code depends only on the small protocols in
`controller.web.controls`; when the charger's internals change, only this adapter follows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from controller.station import StopReason
from controller.web.controls import ControlError

if TYPE_CHECKING:
    from controller.app import Charger

log = logging.getLogger("chargectl.local")


class ChargerControls:
    def __init__(self, charger: Charger) -> None:
        self._c = charger

    def _check(self, connector_id: int) -> None:
        if connector_id not in self._c.hardware:
            raise ControlError(f"no connector {connector_id}")

    # --- LocalControls ------------------------------------------------------------------

    def set_local_cap(self, connector_id: int, limit_a: float | None) -> None:
        self._check(connector_id)
        rating_a = self._c.hardware[connector_id].max_current_a
        min_a = self._c.settings.pilot.min_current_a
        if limit_a is not None and not min_a <= limit_a <= rating_a:
            raise ControlError(
                f"the cap must be between {min_a:g} and {rating_a:g} A (use pause to stop)"
            )
        self._c.overrides.set_cap(connector_id, limit_a)
        log.info(
            "connector %d: local cap %s",
            connector_id,
            "removed" if limit_a is None else f"{limit_a:g} A",
        )
        self._c.loop.wake()

    def pause(self, connector_id: int) -> None:
        self._check(connector_id)
        self._c.overrides.set_paused(connector_id, True)
        log.info("connector %d: paused on the charger", connector_id)
        self._c.loop.wake()

    def resume(self, connector_id: int) -> None:
        self._check(connector_id)
        self._c.overrides.set_paused(connector_id, False)
        log.info("connector %d: resumed on the charger", connector_id)
        self._c.loop.wake()

    def stop_transaction(self, connector_id: int) -> None:
        self._check(connector_id)
        if self._c.ocpp.active_transaction(connector_id) is None:
            raise ControlError(f"connector {connector_id} has no transaction")
        self._c.ocpp.stop_transaction(connector_id, StopReason.LOCAL)
        self._c.loop.wake()

    async def present_tag(self, connector_id: int, id_tag: str) -> bool:
        self._check(connector_id)
        if not 1 <= len(id_tag) <= 20:
            raise ControlError("an idTag has 1 to 20 characters")
        return await self._c.ocpp.present_id_tag(connector_id, id_tag)

    # --- StationView ----------------------------------------------------------------------

    def status_document(self) -> dict[str, Any]:
        return self._c.status_document()

    def chart_point(self) -> dict[str, Any]:
        c = self._c
        connectors = []
        for cid in c.connector_ids:
            u = c.loop.unit(cid)
            tx = c.ocpp.active_transaction(cid)
            connectors.append(
                {
                    "id": cid,
                    "offered_a": u.status.offered_a if u.status else None,
                    "drawn_a": max(u.sample.current_a) if u.sample else None,  # as the document
                    "transaction": None if tx is None else {"id_tag": tx.id_tag},
                }
            )
        link = {"state": c.ocpp.link_state, "frames_received": c.ocpp.frames_received}
        return {"connectors": connectors, "csms": link}

    def composite_schedule(self, connector_id: int, duration_s: int) -> list[tuple[float, float]]:
        now = self._c.clock.now()
        sched = self._c.profiles.composite_schedule(connector_id, now, duration_s, "A")
        rating_a = self._c.hardware[connector_id].max_current_a
        if sched is None:
            return []
        start = now.timestamp()
        cap_a = self._c.overrides.cap_a(connector_id)
        ceiling_a = rating_a if cap_a is None else min(rating_a, cap_a)
        periods = sched.get("chargingSchedulePeriod") or []
        steps = [
            (start + float(p["startPeriod"]), min(float(p["limit"]), ceiling_a)) for p in periods
        ]
        return steps or [(start, ceiling_a)]
