"""Each connector's meter, read on its own task on the control loop's wall-clock grid.

Apart from the loop's ticks: a slow meter (a Modbus read waiting for its line) never holds up a
poll or a new limit; the loop reads the last sample from the unit when it evaluates.
"""

from __future__ import annotations

import asyncio
import logging

from controller.charger.schedule import to_grid
from controller.charger.unit import ConnectorUnit
from hw.clock import Clock
from hw.errors import HardwareError

log = logging.getLogger(__name__)


async def read_meter_forever(u: ConnectorUnit, clock: Clock, interval_s: float) -> None:
    """Keep `u.sample` fresh; after three failed reads in a row it is None (no reading)."""
    assert u.meter is not None
    try:
        await u.meter.start()
    except HardwareError as exc:
        log.warning("connector %d: meter unavailable: %s", u.connector_id, exc)
    while True:
        try:
            u.sample = await u.meter.read()
            u._meter_failures = 0
        except HardwareError as exc:
            u._meter_failures += 1
            if u._meter_failures in (1, 10) or u._meter_failures % 600 == 0:
                log.warning("connector %d: meter read failed: %s", u.connector_id, exc)
            if u._meter_failures >= 3:
                u.sample = None
        # On the same wall-clock grid as the polls: one wake-up serves both.
        wall = clock.now().timestamp()
        await asyncio.sleep(to_grid(wall, interval_s) + 0.001)
