"""Every connector's outputs to the safe state (pilot +12 V without PWM, contactor open), then
closed: the control loop's last act on every exit path, and what a failed pause falls back to.
Never raises: one connector's failure does not keep the next from being made safe."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from controller.charger.unit import ConnectorUnit
from controller.logs import errors_logged

log = logging.getLogger("controller.charger.loop")  # the loop's records, as the journal shows


async def shut_down(units: Sequence[ConnectorUnit]) -> None:
    for u in units:
        with errors_logged() as failures:
            await make_safe(u)
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


async def make_safe(u: ConnectorUnit) -> None:
    try:
        await u.driver.safe_state()
    except Exception:
        log.exception("connector %d: safe state failed", u.connector_id)
