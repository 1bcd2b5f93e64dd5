"""The edge of the main-fuse guard: reads the grid meter and hands the pure guard its inputs.

The meter is read on its own task (every `interval_s`, about once a second); each new reading
wakes the control loop at once, so a load step is answered by the evaluation that follows the
reading, not by the next whole second. Failed reads are logged sparingly and simply leave the
last reading to age: the guard turns an old reading into the fallback current.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from controller.charger.fuse_guard import (
    FuseGuard,
    FuseGuardConfig,
    FuseLimit,
    GridReading,
    OwnDraw,
    cap_on_phases,
    grid_phases,
)
from hw.base import EvseStatus, GridMeter, MeterSample
from hw.clock import Clock
from hw.errors import HardwareError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectorDraw:
    """What the loop knows of one connector, for the guard."""

    connector_id: int
    phases_in_use: int
    drawn_a: float


def drawn_a(sample: MeterSample | None, status: EvseStatus | None) -> float:
    """What a car draws per phase: the connector's meter, else the offer while the contactor
    is closed (a car may draw up to what it is offered)."""
    if sample is not None:
        return max(sample.current_a)
    if status is not None and status.contactor_closed:
        return status.offered_a
    return 0.0


class MainFuse:
    def __init__(
        self,
        meter: GridMeter,
        config: FuseGuardConfig,
        rotations: Mapping[int, tuple[int, ...]],
        clock: Clock,
        interval_s: float = 1.0,
    ) -> None:
        self.meter = meter
        self.guard = FuseGuard(config)
        self._rotations = dict(rotations)
        self._clock = clock
        self._interval_s = interval_s
        self.reading: GridReading | None = None
        self.failures = 0

    @property
    def config(self) -> FuseGuardConfig:
        return self.guard.config

    def rotation(self, connector_id: int) -> tuple[int, ...]:
        return self._rotations.get(connector_id, (0, 1, 2))

    def _own_draws(self, connectors: Sequence[ConnectorDraw]) -> list[OwnDraw]:
        """What each connector draws, on the grid phases it is wired to."""
        return [
            OwnDraw(
                c.connector_id,
                grid_phases(self.rotation(c.connector_id), c.phases_in_use),
                c.drawn_a,
            )
            for c in connectors
        ]

    def caps(self, connectors: Sequence[ConnectorDraw]) -> dict[int, FuseLimit]:
        draws = self._own_draws(connectors)
        return self.guard.caps(self.reading, draws, self._clock.monotonic())

    def cap_if(
        self, connectors: Sequence[ConnectorDraw], connector_id: int, phases: int
    ) -> float | None:
        """The cap `connector_id` would have on `phases` phases now; None without a fresh
        reading (a silent meter is no reason to switch)."""
        r = self.reading
        if r is None or self._clock.monotonic() - r.at_s > self.config.silent_after_s:
            return None
        draws = self._own_draws(connectors)
        wanted = grid_phases(self.rotation(connector_id), phases)
        return cap_on_phases(self.config, r.current_a, draws, connector_id, wanted)

    async def read_once(self) -> bool:
        """One reading; True when it succeeded."""
        try:
            sample = await self.meter.read_grid()
        except Exception as exc:  # the guard falls back on its own; the reading task lives on
            self.failures += 1
            if self.failures in (1, 10) or self.failures % 600 == 0:
                if isinstance(exc, HardwareError | OSError | TimeoutError):
                    log.warning("grid meter read failed (%d in a row): %s", self.failures, exc)
                else:
                    log.exception("grid meter read failed (%d in a row)", self.failures)
            return False
        if self.failures:
            log.info("grid meter answers again after %d failed reads", self.failures)
        self.failures = 0
        self.reading = GridReading(sample.current_a, self._clock.monotonic())
        return True

    async def run(self, wake: Callable[[], None]) -> None:
        try:
            await self.meter.start()
        except HardwareError as exc:
            log.warning("grid meter unavailable: %s", exc)
        try:
            while True:
                if await self.read_once():
                    wake()
                await asyncio.sleep(self._interval_s)
        finally:
            try:
                await self.meter.close()
            except Exception:
                log.exception("grid meter close failed")
