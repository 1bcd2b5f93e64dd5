"""The dashboard, started once the CSMS link's first frame (the BootNotification) is out.

Its libraries (starlette, uvicorn, with click and h11) are about 70 ms of import on the build
machine and more on a Pi: loaded before the link, they delayed the boot by as much. They load
on the event loop in steps of 10-20 ms here, the loop ticking between them, while the pilot is
still in its start-up hold (X1, contactor open: `PilotConfig.startup_hold_s`, 3 s). Not on a
thread: its malloc arena stays, 0.7 MB more resident memory for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from typing import TYPE_CHECKING, Protocol

from controller.config import Settings, masked_dump
from controller.web.controls import LocalControls, StationView

if TYPE_CHECKING:
    from controller.web.server import Dashboard

# A CSMS that cannot be reached does not keep the page away for longer than this.
WAIT_FOR_BOOT_S = 2.0
# The dashboard's stack, in the order it loads, a step each.
STEPS = (
    "click",
    "h11",
    "anyio",
    "starlette.responses",
    "starlette.applications",
    "starlette.staticfiles",
    "uvicorn",
    "controller.web.server",
)


class Controls(LocalControls, StationView, Protocol):
    """What the page reads and does (`controller.local_controls.ChargerControls`)."""


async def start_dashboard(
    settings: Settings, controls: Controls, booted: asyncio.Event, ready: asyncio.Event
) -> Dashboard | None:
    """The started dashboard if it is configured; `ready` is set either way."""
    w = settings.web
    try:
        if not w.enabled:
            return None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_FOR_BOOT_S):
                await booted.wait()
        for name in STEPS:
            module = importlib.import_module(name)
            await asyncio.sleep(0)  # the control loop's turn
        secret = w.password.get_secret_value() if w.password else None
        web: Dashboard = module.Dashboard(
            w.listen, secret, controls, controls, masked_dump(settings)
        )
        await web.start()
        return web
    finally:
        ready.set()
