"""The 2.0.1 adapter without sockets or sleeps: the 1.6 unit rig's in-memory connection pair,
scripted CSMS and fake timers (tests/ocpp/unit/ocpp_unit_rig.py), around a
`ChargingStationService` and a connector whose pilot state, offer and contactor a test sets."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ocpp.messages as ocpp_messages

from controller.ocpp.settings import OcppSettings
from controller.ocpp201.service import ChargingStationService
from controller.smart_charging import ProfileStore, SmartChargingConfig
from controller.station import ConnectorSnapshot
from hw.base import CpState, EvseStatus, MeterSample
from hw.clock import FakeClock
from tests.ocpp.unit.ocpp_unit_rig import Answer, Csms, FakeTimers, Opener, default_answer, until


@dataclass
class Connector:
    cp_state: CpState = CpState.A
    offered_a: float = 0.0
    contactor_closed: bool = False
    energy_wh: float = 1000.0
    limit_a: float | None = None
    cable_max_a: float | None = None
    phases_in_use: int | None = None
    operative: dict[int, bool] = field(default_factory=dict)
    resets: list[str] = field(default_factory=list)

    @property
    def connector_ids(self) -> list[int]:
        return [1]

    def snapshot(self, connector_id: int) -> ConnectorSnapshot:
        meter = MeterSample(self.energy_wh, 0.0, (0.0, 0.0, 0.0), (230.0, 0.0, 0.0))
        status = EvseStatus(
            self.cp_state, self.offered_a, self.contactor_closed, cable_max_a=self.cable_max_a
        )
        return ConnectorSnapshot(
            connector_id, status, self.limit_a, meter, phases_in_use=self.phases_in_use
        )

    def charge(self, offered_a: float = 16.0) -> None:
        self.cp_state, self.offered_a, self.contactor_closed = CpState.C, offered_a, True

    async def unlock_connector(self, connector_id: int) -> bool:
        return False

    async def reset(self, kind: str) -> None:
        self.resets.append(kind)

    def set_operative(self, connector_id: int, operative: bool) -> None:
        self.operative[connector_id] = operative


@dataclass
class Rig201:
    service: ChargingStationService
    csms: Csms
    opener: Opener
    timers: FakeTimers
    clock: FakeClock
    hardware: Connector

    def changed(self) -> None:
        self.service.connector_changed(1)

    def events(self) -> list[dict[str, Any]]:
        """The TransactionEvents the CSMS answered, in order."""
        return [p for a, p in self.csms.answered if a == "TransactionEvent"]


async def booted(r: Rig201) -> None:
    """Until the boot is accepted and its follow-ups (statuses, the start-up security event)
    are answered."""
    await until(lambda: r.service.link_state == "booted")
    await until(lambda: "StatusNotification" in [a for a, _ in r.csms.answered])
    await until(lambda: "SecurityEventNotification" in [a for a, _ in r.csms.answered])


@contextlib.asynccontextmanager
async def rig201(
    tmp_path: Path, answer: Answer = default_answer, **settings: Any
) -> AsyncIterator[Rig201]:
    clock = FakeClock()
    timers = FakeTimers(clock)
    csms = Csms(answer, clock=clock)
    opener = Opener(csms)
    hardware = Connector()
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    profiles = ProfileStore(SmartChargingConfig(number_of_connectors=1), state / "profiles.sqlite")
    service = ChargingStationService(
        replace(OcppSettings(url="ws://unused", charge_point_id="CS-UNIT"), **settings),
        hardware,
        profiles,
        state,
        clock,
        opener=opener,
        timers=timers,
        rng=random.Random(7),
    )
    r = Rig201(service, csms, opener, timers, clock, hardware)
    threaded = ocpp_messages.ASYNC_VALIDATION
    ocpp_messages.ASYNC_VALIDATION = False
    task = asyncio.create_task(service.run())
    try:
        yield r
    finally:
        ocpp_messages.ASYNC_VALIDATION = threaded
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await service.aclose()
        profiles.close()
