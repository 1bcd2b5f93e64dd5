"""A charger with simulated cars behind a simulated house connection, on a fake clock.

The grid meter is read once a (fake) second, as the service does; each reading wakes the loop.
`grid_a` is what the house connection carries, sampled every tick for the assertions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from controller.charger.fuse_guard import FuseGuardConfig, grid_phases
from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.charger.main_fuse import MainFuse
from controller.charger.phase_choice import PhaseChooser
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.base import GridMeter
from hw.clock import FakeClock
from hw.phase_switch import PhaseSwitchConfig
from hw.pilot import PilotConfig
from hw.sim import SimulatedEv, SimulatorSettings, build_sim_connector
from hw.sim_house import SimGridMeter, SimHouse

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
TICK_S = 0.1


@dataclass
class HouseRig:
    clock: FakeClock
    store: ProfileStore
    loop: ControlLoop
    fuse: MainFuse
    house: SimHouse
    grid: SimGridMeter
    evs: list[SimulatedEv]
    trace: list[tuple[float, tuple[float, float, float], float]] = field(default_factory=list)
    """(seconds since start, grid current per phase, offered on connector 1)"""
    before_read: Callable[[], Awaitable[None]] | None = None

    @property
    def unit(self) -> ConnectorUnit:
        return self.loop.units[0]

    async def start(self) -> None:
        for u in self.loop.units:
            await u.driver.start()

    async def run(self, seconds: float) -> None:
        for _ in range(round(seconds / TICK_S)):
            self.clock.advance(TICK_S)
            t = self.clock.monotonic() - 1000.0
            if abs(t - round(t)) < 1e-6:
                for u in self.loop.units:
                    if u.meter is not None:
                        u.sample = await u.meter.read()
                if self.before_read is not None:
                    await self.before_read()
                if await self.fuse.read_once():
                    self.loop.wake()
            await self.loop.tick()
            offered = self.unit.status.offered_a if self.unit.status else 0.0
            self.trace.append((t, self.grid.currents_a(), offered))


def house_rig(
    *,
    fuse_a: float = 25.0,
    margin_a: float = 1.0,
    ev_max_a: float = 32.0,
    rating_a: float = 16.0,
    rotations: tuple[tuple[int, ...], ...] = ((0, 1, 2),),
    phases: tuple[int, ...] = (3,),
    meter: Callable[[SimGridMeter], GridMeter] | None = None,
    phase_switch: PhaseSwitchConfig | None = None,
    up_after_s: float = 300.0,
) -> HouseRig:
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=len(rotations)))
    house = SimHouse(clock, ())
    house.set_load((1.0, 1.0, 1.0))
    grid = SimGridMeter(house)
    units, evs = [], []
    for cid, (rotation, n) in enumerate(zip(rotations, phases, strict=True), start=1):
        d, m, ev = build_sim_connector(
            SimulatorSettings(ev_response_s=1.0, ev_max_current_a=ev_max_a, phases=n),
            clock,
            rating_a,
            # As the service configures the pilot with a grid meter (controller.drivers).
            PilotConfig(max_current_a=rating_a, decrease_min_interval_s=1.0),
            phase_switch=phase_switch,
        )
        units.append(
            ConnectorUnit(cid, d, m, rating_a, phase_chooser=PhaseChooser(up_after_s=up_after_s))
        )
        evs.append(ev)

        def draw(ev: SimulatedEv = ev, rotation: tuple[int, ...] = rotation):
            ev.step()
            return [(p, ev.drawn_current_a) for p in grid_phases(rotation, ev.phases_drawn)]

        grid.add_car(draw)
    config = FuseGuardConfig(main_fuse_a=fuse_a, margin_a=margin_a)
    fuse = MainFuse(
        meter(grid) if meter else grid,
        config,
        {i + 1: r for i, r in enumerate(rotations)},
        clock,
    )
    loop = ControlLoop(
        units,
        store,
        clock,
        permit=lambda c: True,
        session_start=lambda c: T0,
        on_change=lambda c: None,
        main_fuse=fuse,
    )
    for u in units:
        store.transaction_started(u.connector_id, u.connector_id, T0)
    return HouseRig(clock, store, loop, fuse, house, grid, evs)


def seconds_over(trace, phase: int, limit_a: float) -> float:
    """The longest stretch in which `phase` carried more than `limit_a`."""
    longest, since = 0.0, None
    for t, grid_a, _ in trace:
        if grid_a[phase] > limit_a + 1e-9:
            since = t if since is None else since
            longest = max(longest, t - since + TICK_S)
        else:
            since = None
    return longest
