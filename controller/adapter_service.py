"""The face both OCPP adapters' services show the daemon, the status document and the dashboard.

`controller.app` drives a 1.6 `ChargePointService` or a 2.0.1 `ChargingStationService` by
`[ocpp] version` without knowing which: the properties it reads and the events it passes on
must mean the same in both. A base class keeps that face written once; each service keeps what
its protocol answers differently (a connector's status word, whether charging is permitted,
how a maintenance report is worded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sized
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from controller.auth import Reservation, Reservations
from controller.frame_counts import FrameCounts, RecentEvents
from controller.ocpp.settings import OcppSettings
from controller.station import StopReason
from controller.timestamps import utc_iso


class Shared(Protocol):
    """What an adapter's parts share (1.6's `Core`, 2.0.1's `Context`) and this face reads."""

    settings: OcppSettings
    boot_status: str | None
    reservations: Reservations
    tasks: set[asyncio.Task[Any]]

    @property
    def link_state(self) -> StrEnum: ...

    def now(self) -> datetime: ...

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None: ...


class Flow(Protocol):
    def connector_changed(self, connector_id: int) -> None: ...

    def stop(self, connector_id: int, reason: StopReason) -> None: ...


class Cards(Protocol):
    async def present(self, connector_id: int, id_tag: str) -> bool: ...


class LocalAuth(Protocol):
    @property
    def cache(self) -> Sized: ...

    def list_version(self) -> int: ...

    def list_size(self) -> int: ...


def reservation_document(r: Reservation) -> dict[str, Any]:
    """A reservation in `status --json`, the same for both versions."""
    return {
        "reservation_id": r.reservation_id,
        "id_tag": r.id_tag,
        "parent_id_tag": r.parent_id_tag,
        "expiry": utc_iso(r.expiry),
    }


class AdapterService:
    _shared: Shared
    _security_events: RecentEvents
    handlers: FrameCounts
    flow: Flow
    cards: Cards
    auth: LocalAuth

    # --- what the daemon reads --------------------------------------------------------------

    @property
    def settings(self) -> OcppSettings:
        return self._shared.settings

    @settings.setter
    def settings(self, value: OcppSettings) -> None:
        self._shared.settings = value

    @property
    def link_state(self) -> str:
        return self._shared.link_state.value

    @property
    def boot_status(self) -> str | None:
        return self._shared.boot_status

    @property
    def frames_received(self) -> int:
        return self.handlers.frames_received

    @property
    def frames_rejected(self) -> int:
        return self.handlers.frames_rejected

    def link_activity(self) -> dict[str, Any]:
        """Frames each way and when, and the last security events: for status and the page."""
        return self.handlers.activity(self._security_events)

    def auth_status(self, connector_id: int | None = None) -> dict[str, Any]:
        """For `status --json`: a connector's reservation, or (None) the list and the cache."""
        if connector_id is None:
            return {
                "local_list_version": self.auth.list_version(),
                "local_list_entries": self.auth.list_size(),
                "auth_cache_entries": len(self.auth.cache),
            }
        r = self._shared.reservations.on_connector(connector_id)
        return {"reservation": None if r is None else reservation_document(r)}

    def now(self) -> datetime:
        return self._shared.now()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._shared.spawn(coro, name)

    # --- what the daemon tells --------------------------------------------------------------

    def connector_changed(self, connector_id: int) -> None:
        self.flow.connector_changed(connector_id)

    async def present_id_tag(self, connector_id: int, id_tag: str) -> bool:
        """A local card: see each adapter's `cards.Cards`."""
        return await self.cards.present(connector_id, id_tag)

    def stop_transaction(self, connector_id: int, reason: StopReason) -> None:
        self.flow.stop(connector_id, reason)

    # --- running ----------------------------------------------------------------------------

    async def _cancel_tasks(self) -> set[asyncio.Task[Any]]:
        """Cancels the supervised tasks; those still running after a bounded wait. Bounded: a
        call stuck inside the ocpp library (its wait_for can miss a cancellation on Python
        3.11) must not hold the service's shutdown."""
        tasks = list(self._shared.tasks)
        for t in tasks:
            t.cancel()
        if not tasks:
            return set()
        _, stuck = await asyncio.wait(tasks, timeout=2.0)
        return stuck
