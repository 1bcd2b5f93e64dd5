"""The pilot state machine driving the simulated car, on a fake clock: every timing rule."""

import asyncio

import pytest

from hw.base import CpState
from hw.clock import FakeClock
from hw.pilot import PilotConfig, PilotLevel
from hw.sim import SimulatorSettings, build_sim_connector

TICK_S = 0.1


class Rig:
    def __init__(self, settings=None, config=None):
        self.clock = FakeClock()
        self.driver, self.meter, self.ev = build_sim_connector(
            settings or SimulatorSettings(ev_response_s=1.0), self.clock, 32.0, config
        )
        self.output = self.driver._output
        self.contactor = self.driver._contactor
        asyncio.run(self.driver.start())
        self.status = None

    def run(self, seconds, limit_a=None):
        async def go():
            if limit_a is not None:
                await self.driver.set_limit(limit_a)
            for _ in range(round(seconds / TICK_S)):
                self.clock.advance(TICK_S)
                self.status = await self.driver.poll()

        asyncio.run(go())
        return self.status

    def until(self, predicate, max_s, limit_a=None):
        """Seconds until predicate(rig) holds, polling every tick; fails after max_s."""

        async def go():
            if limit_a is not None:
                await self.driver.set_limit(limit_a)
            t = 0.0
            while t <= max_s:
                self.status = await self.driver.poll()
                if predicate(self):
                    return t
                self.clock.advance(TICK_S)
                t += TICK_S
            raise AssertionError(f"not within {max_s} s: {self.status} ev={vars(self.ev)}")

        return asyncio.run(go())


def charging_rig(**kw):
    rig = Rig(SimulatorSettings(ev_response_s=1.0, **kw))
    rig.run(5, limit_a=32)
    assert rig.ev.drawn_current_a == 32
    return rig


def test_plugged_car_charges_at_the_offer():
    rig = Rig()
    assert rig.run(0.2).cp_state is CpState.B
    rig.until(lambda r: r.ev.drawn_current_a == 16, 5, limit_a=16)
    assert rig.status.cp_state is CpState.C and rig.status.contactor_closed
    assert rig.output.duty_history[-1][1] == pytest.approx(26.667, abs=0.01)


def test_pause_is_immediate_and_the_car_stops_within_3_s():
    rig = charging_rig()
    asyncio.run(rig.driver.set_limit(0))
    # The pilot went to +12 V inside set_limit, before any poll.
    assert rig.output.duty_history[-1][1] == 100.0
    took = rig.until(lambda r: r.ev.drawn_current_a == 0 and r.status.cp_state is CpState.B, 3.0)
    assert took <= 3.0
    assert not rig.status.contactor_closed
    assert rig.status.offered_a == 0


def test_contactor_opens_within_one_poll_of_c_to_b():
    rig = charging_rig()
    asyncio.run(rig.driver.set_limit(0))
    rig.until(lambda r: not r.ev.s2_closed, 3.0)
    # The poll that saw B already opened the contactor.
    assert not rig.contactor.closed


def test_contactor_forced_open_after_6_s_when_the_car_ignores_the_pause():
    rig = charging_rig(ev_ignores_pause=True)
    asyncio.run(rig.driver.set_limit(0))
    rig.run(5.8)
    assert rig.contactor.closed and rig.ev.drawn_current_a == 32
    rig.run(0.3)
    assert not rig.contactor.closed
    assert rig.ev.drawn_current_a == 0
    assert rig.driver.machine.ignored_pause


def test_resume_waits_for_the_minimum_pause_then_draws_16_a():
    rig = charging_rig()
    rig.run(2, limit_a=0)
    asyncio.run(rig.driver.set_limit(16))
    rig.run(7.5)  # 9.5 s of pause: still under the 10 s minimum
    assert rig.output.duty_history[-1][1] == 100.0
    took = rig.until(lambda r: r.ev.drawn_current_a == 16, 5)
    assert took <= 5
    assert rig.status.offered_a == 16


def test_duty_changes_at_most_every_5_s():
    rig = charging_rig()  # 32 A applied 5 s ago
    before = len(rig.output.duty_history)
    asyncio.run(rig.driver.set_limit(20))  # 5 s since the last change: applied at once
    rig.run(1)
    asyncio.run(rig.driver.set_limit(10))
    rig.run(1)
    asyncio.run(rig.driver.set_limit(12))
    rig.run(2.8)  # 4.8 s since the 20 A change
    assert [round(d, 2) for _, d in rig.output.duty_history[before:]] == [33.33]
    rig.run(0.3)
    # Only the latest wish, once, 5 s after the previous change.
    assert [round(d, 2) for _, d in rig.output.duty_history[before:]] == [33.33, 20.0]
    assert rig.status.offered_a == 12


def test_limits_under_6_a_pause():
    rig = charging_rig()
    asyncio.run(rig.driver.set_limit(5.9))
    assert rig.output.duty_history[-1][1] == 100.0


def test_a_sleeping_car_is_woken():
    rig = Rig(SimulatorSettings(ev_response_s=1.0, ev_sleep_after_pause_s=20))
    rig.run(5, limit_a=16)
    assert rig.ev.drawn_current_a == 16
    rig.run(40, limit_a=0)
    assert rig.ev.asleep
    asyncio.run(rig.driver.set_limit(16))
    rig.run(29)
    assert rig.ev.drawn_current_a == 0 and rig.status.cp_state is CpState.B
    rig.run(2)
    assert rig.driver.machine._wake.value == "F" and rig.output.duty_history[-1][1] == 0.0
    # The wake-up drove F for at least 3 s, the car woke and now draws 16 A.
    assert any(d == 0.0 for _, d in rig.output.duty_history)
    took = rig.until(lambda r: r.ev.drawn_current_a == 16, 10)
    assert not rig.ev.asleep and took < 10
    assert not rig.status.suspended_by_ev


def test_a_car_that_never_wakes_is_reported_suspended_by_ev():
    rig = Rig(SimulatorSettings(ev_response_s=1.0, ev_sleep_after_pause_s=5))
    rig.run(5, limit_a=16)
    rig.run(20, limit_a=0)
    assert rig.ev.asleep
    rig.ev.settings = SimulatorSettings(ev_response_s=1.0, ev_sleep_after_pause_s=5)
    # Make the car deaf to the wake-up too: it stays asleep whatever the pilot does.
    rig.ev.step = lambda: None
    rig.run(30 + 4 + 0.75 + 10 + 1, limit_a=16)
    assert rig.status.suspended_by_ev
    assert rig.status.offered_a == 16  # the offer stays on


def test_interruption_cap_makes_resumes_wait_longer():
    cfg = PilotConfig(max_interruptions_per_session=2, capped_min_pause_s=60)
    rig = Rig(SimulatorSettings(ev_response_s=1.0), cfg)
    for _ in range(2):
        rig.run(5, limit_a=16)
        rig.run(11, limit_a=0)
    rig.run(15, limit_a=16)
    assert rig.status.offered_a == 0  # capped: 60 s
    rig.run(50)
    assert rig.status.offered_a == 16


def test_unplug_opens_and_resets():
    rig = charging_rig()
    rig.ev.unplug()
    rig.run(0.2)
    assert rig.status.cp_state is CpState.A
    assert not rig.contactor.closed
    assert rig.output.duty_history[-1][1] == 100.0


def test_close_leaves_x1_and_contactor_open():
    rig = charging_rig()
    asyncio.run(rig.driver.close())
    assert rig.output.duty_history[-1][1] == 100.0
    assert not rig.contactor.closed


def test_output_failure_goes_safe_and_raises_a_hardware_error():
    from hw.errors import DriverIOError

    rig = charging_rig()
    calls = []

    def broken(duty):
        calls.append(duty)
        if duty != 100.0:
            raise DriverIOError("write failed")

    rig.output.set_duty = broken
    with pytest.raises(DriverIOError):
        asyncio.run(rig.driver.set_limit(10))
        rig.run(6)
    assert calls[-1] == 100.0 and not rig.contactor.closed


def test_meter_integrates_energy():
    rig = Rig()
    rig.run(5, limit_a=16)
    e0 = asyncio.run(rig.meter.read()).energy_wh
    rig.run(60)
    sample = asyncio.run(rig.meter.read())
    assert sample.current_a == (16, 16, 16)
    assert sample.energy_wh - e0 == pytest.approx(16 * 230 * 3 * 60 / 3600, rel=0.01)


def test_pilot_level_enum_values():
    assert {lv.value for lv in PilotLevel} == {"X1", "PWM", "F"}
