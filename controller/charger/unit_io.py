"""A connector's hardware at the edges of the loop's life: its meter read on its own task,
and every output to the safe state on the way out.

Apart from the loop because both are about one unit's devices, not about deciding or applying
a limit, and both must hold whatever the loop does: the safe state is reached on every exit
path (pilot +12 V without PWM, contactor open) and never raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from controller.charger.schedule import to_grid
from controller.charger.unit import ConnectorUnit
from controller.logs import errors_logged
from hw.clock import Clock
from hw.errors import HardwareError

log = logging.getLogger(__name__)


async def shutdown_units(units: Sequence[ConnectorUnit]) -> None:
    """Every output to the safe state; never raises."""
    for u in units:
        with errors_logged() as failures:
            try:
                await u.driver.safe_state()
            except Exception:
                log.exception("connector %d: safe state failed", u.connector_id)
        if not u.shut_down:
            u.shut_down = True
            if failures:
                log.critical("connector %d: the safe state is NOT confirmed", u.connector_id)
            else:
                log.info(
                    "connector %d: safe state: pilot +12 V without PWM, contactor open",
                    u.connector_id,
                )
        try:
            await u.driver.close()
        except Exception:
            log.exception("connector %d: close failed", u.connector_id)
        if u.meter is not None:
            try:
                await u.meter.close()
            except Exception:
                log.exception("connector %d: meter close failed", u.connector_id)


async def meter_task(u: ConnectorUnit, clock: Clock, interval_s: float) -> None:
    """Read the unit's meter for ever, on the loop's wall-clock grid."""
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


async def safe(u: ConnectorUnit) -> None:
    try:
        await u.driver.safe_state()
    except Exception:
        log.exception("connector %d: safe state failed", u.connector_id)
