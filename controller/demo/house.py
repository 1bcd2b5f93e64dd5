"""`chargectl demo --house`: the main-fuse guard at work in a simulated house, no hardware.

A 25 A main fuse, a car charging at 16 A on three phases, and the house behind the same grid
meter: a cooker switches 20 A onto L2 and the charger pauses before the fuse would blow; the
cooker goes off and the car comes back once the headroom has lasted; the grid meter goes
silent and the charger falls back to 6 A, saying why. The embedded CSMS sees all of it as
Current.Offered.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

from controller.app import Charger
from controller.config import GridMeterSection, Settings
from controller.demo.timeline import Story, Timeline
from hw.sim_house import SimGridMeter

FUSE_A = 25.0
BASE_LOAD_A = (2.0, 1.5, 1.0)
COOKER_LOAD_A = (2.0, 21.5, 1.0)


def house_settings(base: Settings) -> Settings:
    """The demo's charger with the simulated house and grid meter added."""
    grid_meter = GridMeterSection(
        type="sim",
        margin_a=1.0,
        increase_after_s=10.0,
        silent_after_s=5.0,
        fallback_current_a=6.0,
    )
    station = attrs.evolve(base.station, main_fuse_a=FUSE_A, grid_meter=grid_meter)
    first = attrs.evolve(base.connector[0], max_current_a=16.0)
    # The pilot settings this story was measured with: a direct pilot's pace (50 ms charging,
    # 500 ms idle) and decreases 5 s apart. With the 1 s decrease spacing a grid meter otherwise
    # gets, a load step that lands just after a meter read can leave L2 over the fuse for 2.5 s
    # instead of 1.5 s (docs/energy.md, "Known limits").
    pilot = attrs.evolve(
        base.pilot, poll_interval_s=0.05, idle_poll_interval_s=0.5, decrease_min_interval_s=5.0
    )
    return attrs.evolve(base, station=station, pilot=pilot, connector=[first, *base.connector[1:]])


async def _until(ok: Any, timeout_s: float, step_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ok():
            return True
        await asyncio.sleep(step_s)
    return False


async def play_house(settings: Settings, csms: Any, cp_id: str, out: Any) -> Story:
    from ocpp.v16 import call

    story = Story()
    with tempfile.TemporaryDirectory(prefix="chargectl-demo-") as tmp:
        state = attrs.evolve(settings.state, dir=Path(tmp))
        charger = Charger(attrs.evolve(settings, state=state))
        fuse = charger.loop.main_fuse
        assert fuse is not None and isinstance(fuse.meter, SimGridMeter)
        grid = fuse.meter
        grid.house.set_load(BASE_LOAD_A)
        unit = charger.loop.unit(1)
        tl = Timeline(charger, story, out, time.monotonic())
        over: list[float] = []  # seconds of each stretch with a phase over the fuse

        async def watch_grid() -> None:
            since: float | None = None
            while True:
                now = time.monotonic()
                if max(grid.currents_a()) > FUSE_A:
                    since = now if since is None else since
                elif since is not None:
                    over.append(now - since)
                    since = None
                await asyncio.sleep(0.05)

        tasks = [
            asyncio.create_task(charger.run()),
            asyncio.create_task(tl.run()),
            asyncio.create_task(watch_grid()),
        ]
        try:
            await csms.wait_for("BootNotification", timeout_s=20)
            tl.mark(f"charger booted; main fuse {FUSE_A:g} A per phase, house on {BASE_LOAD_A}")
            mark = len(csms.received)
            await csms.call(cp_id, call.RemoteStartTransaction(id_tag="DEMO-TAG", connector_id=1))
            start = await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
            story.transaction_id = int(start.payload["_assigned_transaction_id"])
            story.checks["charging at 16 A"] = await _until(
                lambda: unit.status is not None and unit.status.offered_a == 16.0, 30
            )
            await asyncio.sleep(3)

            tl.mark("house: the cooker switches 20 A onto L2")
            t_on = time.monotonic()
            grid.house.set_load(COOKER_LOAD_A)
            story.checks["offer lowered within 2 s of the load step"] = await _until(
                lambda: unit.status is not None and unit.status.offered_a < 16.0, 2.0
            )
            tl.mark(f"guard answered after {time.monotonic() - t_on:.1f} s")
            await asyncio.sleep(6)
            tl.mark("house: the cooker is off")
            grid.house.set_load(BASE_LOAD_A)
            story.checks["back to 16 A once the headroom lasted"] = await _until(
                lambda: unit.status is not None and unit.status.offered_a == 16.0, 45
            )

            tl.mark("the grid meter goes silent")
            grid.silent = True
            story.checks["fallback 6 A after 5 s without a reading"] = await _until(
                lambda: unit.status is not None and unit.status.offered_a == 6.0, 9
            )
            why = unit.fuse_limit.text() if unit.fuse_limit else "-"
            tl.mark(f"status says: {why}")
            grid.silent = False
            await asyncio.sleep(2)
            story.checks["no phase over the fuse for longer than 2 s"] = all(s <= 2.0 for s in over)
            tl.mark(f"longest stretch over {FUSE_A:g} A: {max(over, default=0.0):.1f} s")
            story.energy_wh = unit.sample.energy_wh if unit.sample else 0.0
        finally:
            charger.stop()
            for t in tasks[1:]:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return story
