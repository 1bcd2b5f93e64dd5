"""Each driver is polled as often as its state needs: the direct pilot every 50 ms while the
contactor is closed or a transition is pending and every 500 ms while idle, a Modbus board once
a second; on a fake clock that the test moves to each wake-up the loop asks for."""

import asyncio
import itertools
from datetime import UTC, datetime

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.base import CpState, Polled
from hw.clock import FakeClock
from hw.pilot import PilotPhase
from hw.sim import SimulatorSettings, build_sim_connector

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


class Rig:
    def __init__(self, plugged_in: bool, permitted: bool = True) -> None:
        self.clock = FakeClock(T0)
        store = ProfileStore(SmartChargingConfig(number_of_connectors=1))
        self.driver, _meter, self.ev = build_sim_connector(
            SimulatorSettings(plugged_in=plugged_in, ev_response_s=0.2), self.clock, 32.0
        )
        self.unit = ConnectorUnit(1, self.driver, None, 32.0)
        self.loop = ControlLoop(
            [self.unit],
            store,
            self.clock,
            permit=lambda c: permitted,
            session_start=lambda c: T0,
            on_change=lambda c: None,
        )
        self.polls: list[float] = []  # monotonic time of every poll
        self.wakeups = 0
        real_poll = self.driver.poll

        async def counted_poll():
            self.polls.append(self.clock.monotonic())
            return await real_poll()

        self.driver.poll = counted_poll  # type: ignore[method-assign]

    async def start(self) -> None:
        await self.driver.start()
        await self.loop.tick()

    async def run_for(self, seconds: float, until=None) -> None:
        """Sleep as the loop asks (as run() does), tick at each wake-up."""
        end = self.clock.monotonic() + seconds
        while self.clock.monotonic() < end:
            wake = self.loop.next_wake_mono() + 0.001
            self.clock.advance(max(0.0, min(wake, end) - self.clock.monotonic()))
            await self.loop.tick()
            self.wakeups += 1
            if until is not None and until():
                return


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_the_direct_pilot_is_a_polled_driver():
    rig = Rig(plugged_in=False)
    assert isinstance(rig.driver, Polled)


def test_idle_station_is_polled_twice_a_second_and_wakes_about_as_often():
    rig = Rig(plugged_in=False)

    async def go():
        await rig.start()
        rig.polls.clear()
        rig.wakeups = 0
        await rig.run_for(20.0)

    asyncio.run(go())
    assert rig.driver.poll_interval_s() == 0.5
    # 10 Hz before: 200 polls and 200 wake-ups in 20 s.
    assert 38 <= len(rig.polls) <= 42, len(rig.polls)
    assert max(gaps(rig.polls)) <= 0.5 + 0.006
    # The whole-second evaluation shares its wake-up with a poll on the 500 ms grid.
    assert rig.wakeups <= 42, rig.wakeups


def test_charging_polls_every_50_ms_and_c_to_b_opens_the_contactor_within_100_ms():
    rig = Rig(plugged_in=True)

    async def go():
        await rig.start()
        await rig.run_for(15.0, until=lambda: rig.driver.pilot.phase is PilotPhase.CHARGING)
        assert rig.driver.pilot.phase is PilotPhase.CHARGING
        assert rig.driver.poll_interval_s() == 0.05
        rig.polls.clear()
        await rig.run_for(3.0)
        assert max(gaps(rig.polls)) <= 0.05 + 0.006
        assert len(rig.polls) >= 55
        # The car ends its charge: C -> B, on no particular grid point.
        rig.clock.advance(0.0173)
        # The simulator has no "battery full": a sleeping car that stops requesting is one.
        rig.ev.fall_asleep()
        rig.ev._requesting = False
        left_c = rig.clock.monotonic()
        await rig.run_for(1.0, until=lambda: not rig.ev.contactor_closed)
        assert not rig.ev.contactor_closed
        return rig.clock.monotonic() - left_c

    opened_after_s = asyncio.run(go())
    assert opened_after_s <= 0.1, opened_after_s


def test_c_being_debounced_is_a_pending_transition_polled_fast():
    rig = Rig(plugged_in=True)

    async def go():
        await rig.start()
        await rig.run_for(15.0, until=lambda: rig.driver.pilot.phase is PilotPhase.OFFERING)
        assert rig.driver.pilot.phase is PilotPhase.OFFERING
        idle_while_offering_b = rig.driver.poll_interval_s()
        await rig.run_for(5.0, until=lambda: rig.driver.pilot.vehicle_state is CpState.C)
        assert rig.driver.pilot.phase is PilotPhase.OFFERING  # C seen, contactor not yet closed
        return idle_while_offering_b, rig.driver.poll_interval_s()

    offering_b, offering_c = asyncio.run(go())
    assert offering_b == 0.5
    assert offering_c == 0.05


def test_after_an_evaluation_only_the_driver_written_to_is_polled_again():
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=2))
    units = []
    for cid in (1, 2):
        d, _, _ = build_sim_connector(SimulatorSettings(plugged_in=False), clock, 32.0)
        units.append(ConnectorUnit(cid, d, None, 32.0))
    permitted = {1: False, 2: False}
    loop = ControlLoop(
        units,
        store,
        clock,
        permit=lambda c: permitted[c],
        session_start=lambda c: T0,
        on_change=lambda c: None,
    )

    async def go():
        for u in units:
            await u.driver.start()
        await loop.tick()
        clock.advance(0.2)  # between grid points: no poll is due
        before = [u.polls for u in units]
        permitted[2] = True
        loop.wake()
        await loop.tick()
        return [u.polls - b for u, b in zip(units, before, strict=True)]

    assert asyncio.run(go()) == [0, 1]
