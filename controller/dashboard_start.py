"""The dashboard, started once the CSMS link's first frame (the BootNotification) is out.

Its libraries (starlette, uvicorn, with click and h11) are about 70 ms of import on the build
machine and more on a Pi: loaded before the link, they delayed the boot by as much. They load
on a worker thread, so the event loop that runs the pilot keeps ticking meanwhile.
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
WAIT_FOR_BOOT_S = 3.0


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
        server = await asyncio.to_thread(importlib.import_module, "controller.web.server")
        secret = w.password.get_secret_value() if w.password else None
        web: Dashboard = server.Dashboard(
            w.listen, secret, controls, controls, masked_dump(settings)
        )
        await web.start()
        return web
    finally:
        ready.set()
