"""The simulator: the direct-pilot driver and state machine with a simulated car on the cable,
on a fake clock. Covers the issue's 'done when' items for the pilot path."""

from __future__ import annotations

import pytest

from hw.base import CpState, EvseDriver, FaultKind, Meter
from hw.clock import FakeClock
from hw.pilot import PilotConfig, PilotMode, PilotPhase, PilotSignal
from hw.sim import SimulatedEv, SimulatorSettings, build_sim_connector, probe

POLL_S = 0.05


class Rig:
    def __init__(self, settings: SimulatorSettings | None = None, **config) -> None:
        self.clock = FakeClock()
        self.driver, self.meter, self.ev = build_sim_connector(
            settings or SimulatorSettings(), self.clock, 32.0, PilotConfig(**config)
        )
        self.output = self.driver.output
        self.contactor = self.driver.contactor
        self.status = None

    async def run(self, seconds: float):
        for _ in range(round(seconds / POLL_S)):
            self.clock.advance(POLL_S)
            self.status = await self.driver.poll()
        return self.status

    async def until(self, predicate, max_s: float) -> float:
        """Seconds of polling until predicate(rig) holds; fails after max_s."""
        t = 0.0
        self.status = await self.driver.poll()
        while not predicate(self):
            if t >= max_s:
                raise AssertionError(f"not within {max_s} s: {self.driver.pilot}")
            self.clock.advance(POLL_S)
            t += POLL_S
            self.status = await self.driver.poll()
        return t


async def charging_rig(settings: SimulatorSettings | None = None, limit_a: float = 16, **cfg):
    rig = Rig(settings, **cfg)
    await rig.driver.start()
    await rig.driver.set_limit(limit_a)
    await rig.until(lambda r: r.ev.drawn_current_a == min(limit_a, 32), 10)
    return rig


async def test_the_simulator_is_a_driver_and_a_meter():
    rig = Rig()
    assert isinstance(rig.driver, EvseDriver) and isinstance(rig.meter, Meter)
    caps = rig.driver.capabilities
    assert (caps.max_current_a, caps.phases, caps.can_wake_up) == (32.0, 3, True)
    assert caps.has_contactor_feedback
    assert [r.ok for r in await probe(SimulatorSettings())] == [True]


async def test_plugged_car_charges_at_the_offer():
    rig = await charging_rig(limit_a=16)
    assert rig.status.cp_state is CpState.C and rig.status.contactor_closed
    assert rig.status.offered_a == 16
    assert rig.output.history[-1][1].duty_percent == pytest.approx(26.667, abs=0.001)


async def test_paused_car_stops_within_3_s_and_resumes_at_16_a():
    rig = await charging_rig(limit_a=32)
    paused_at = rig.clock.monotonic()
    await rig.driver.set_limit(0)
    # Pausing is immediate: the pilot is at +12 V before any poll.
    assert rig.output.history[-1] == (paused_at, PilotSignal.x1())
    took = await rig.until(lambda r: r.ev.drawn_current_a == 0, 3.0)
    assert took <= 3.0
    assert rig.status.cp_state is CpState.B and not rig.status.contactor_closed
    assert rig.status.offered_a == 0
    await rig.driver.set_limit(16)
    took = await rig.until(lambda r: r.ev.drawn_current_a == 16, 15)
    resumed_at = next(t for t, s in rig.output.history if t > paused_at and s.current_a == 16)
    assert resumed_at - paused_at == pytest.approx(10.0, abs=POLL_S + 1e-6)  # minimum pause
    assert rig.status.offered_a == 16 and rig.status.contactor_closed
    assert rig.driver.pilot.interruptions == 1


async def test_contactor_opens_within_100_ms_of_c_to_b():
    rig = await charging_rig()
    await rig.driver.set_limit(0)
    await rig.until(lambda r: not r.ev.requesting, 3.0)
    # The car opened S2 at most one poll ago; the poll that saw B opened the contactor.
    opened_at = rig.contactor.history[-1]
    assert opened_at[1] is False
    assert rig.clock.monotonic() - opened_at[0] <= 0.1
    assert not rig.ev.contactor_closed


async def test_contactor_forced_open_after_6_s_when_the_car_ignores_the_pause():
    rig = await charging_rig(SimulatorSettings(ev_ignores_pause=True), limit_a=32)
    paused_at = rig.clock.monotonic()
    await rig.driver.set_limit(0)
    await rig.run(5.9)
    assert rig.ev.contactor_closed and rig.ev.drawn_current_a == 32
    await rig.until(lambda r: not r.ev.contactor_closed, 0.2)
    assert rig.contactor.history[-1][0] - paused_at == pytest.approx(6.0, abs=POLL_S + 1e-6)
    assert rig.ev.drawn_current_a == 0 and rig.driver.pilot.ignored_pause
    assert rig.status.cp_state is CpState.C  # the car still asks, the pilot still says X1


async def test_sleeping_car_is_woken_by_the_wake_up_sequence():
    rig = await charging_rig(SimulatorSettings(ev_sleep_after_pause_s=60))
    await rig.driver.set_limit(0)
    await rig.run(120)
    assert rig.ev.asleep
    resume_at = rig.clock.monotonic()
    await rig.driver.set_limit(16)
    await rig.run(29.9)
    assert rig.ev.asleep and rig.ev.drawn_current_a == 0  # PWM alone does not wake it
    await rig.until(lambda r: r.driver.pilot.phase is PilotPhase.WAKE_F, 0.2)
    assert rig.status.cp_state is CpState.B  # the car is still reported during our F
    f_at = rig.clock.monotonic()
    took = await rig.until(lambda r: r.ev.drawn_current_a == 16, 10)
    assert not rig.ev.asleep
    modes = [(round(t - f_at, 2), s.mode) for t, s in rig.output.history if t >= f_at]
    assert modes[:3] == [(0.0, PilotMode.F), (4.0, PilotMode.X1), (4.75, PilotMode.PWM)]
    assert f_at - resume_at == pytest.approx(30.0, abs=POLL_S + 1e-6)
    assert took < 10 and not rig.status.suspended_by_ev


async def test_car_that_stays_asleep_is_reported_suspended_by_ev():
    rig = Rig(SimulatorSettings())
    rig.ev.fall_asleep()
    await rig.driver.start()
    await rig.driver.set_limit(16)
    await rig.run(3 + 30 + 4 + 0.1)  # start-up hold, wait, F: now in the X1 step
    assert rig.driver.pilot.phase is PilotPhase.WAKE_X1
    rig.ev.fall_asleep()  # a car the F did not wake
    await rig.run(0.65 + 9.9)
    assert not rig.status.suspended_by_ev and rig.driver.pilot.signal == PilotSignal.pwm(16)
    await rig.run(0.2)
    assert rig.status.suspended_by_ev and rig.status.offered_a == 16
    assert rig.status.cp_state is CpState.B


async def test_duty_change_followed_after_the_response_time():
    rig = await charging_rig(SimulatorSettings(ev_response_s=2.0), limit_a=32)
    await rig.run(5)  # past the 5 s duty interval
    await rig.driver.set_limit(10)
    assert rig.ev.offered_a == pytest.approx(10.0)
    await rig.run(1.9)
    assert rig.ev.drawn_current_a == 32
    await rig.run(0.15)
    assert rig.ev.drawn_current_a == pytest.approx(10.0)


async def test_car_max_current_caps_the_draw():
    rig = await charging_rig(SimulatorSettings(ev_max_current_a=11), limit_a=11)
    await rig.driver.set_limit(32)
    await rig.run(8)
    assert rig.status.offered_a == 32 and rig.ev.drawn_current_a == 11


async def test_energy_integrates_over_the_clock():
    rig = await charging_rig(limit_a=16)
    before = (await rig.meter.read()).energy_wh
    await rig.run(60)
    sample = await rig.meter.read()
    assert sample.energy_wh - before == pytest.approx(16 * 230 * 3 / 60, rel=1e-6)
    assert sample.current_a == (16, 16, 16) and sample.power_w == pytest.approx(11040)
    assert sample.voltage_v == (230, 230, 230)


async def test_single_phase_meter():
    rig = await charging_rig(SimulatorSettings(phases=1, voltage_v=240), limit_a=10)
    sample = await rig.meter.read()
    assert sample.current_a == (10, 0, 0) and sample.power_w == pytest.approx(2400)
    assert rig.driver.capabilities.phases == 1


async def test_unplug_and_replug():
    rig = await charging_rig()
    rig.ev.unplug()
    status = await rig.driver.poll()
    assert status.cp_state is CpState.A and not status.plugged_in
    assert not status.contactor_closed and rig.ev.drawn_current_a == 0
    assert status.offered_a == 0
    await rig.run(1)
    rig.ev.plug_in()
    took = await rig.until(lambda r: r.ev.drawn_current_a == 16, 5)
    assert took < 2  # a new session: no minimum pause to wait for


async def test_not_plugged_in_at_start():
    rig = Rig(SimulatorSettings(plugged_in=False))
    await rig.driver.start()
    await rig.driver.set_limit(16)
    status = await rig.run(5)
    assert status.cp_state is CpState.A and status.offered_a == 0


async def test_welded_contactor_is_reported_and_the_pilot_goes_safe():
    rig = await charging_rig()
    rig.contactor.stuck_closed = True
    await rig.driver.set_limit(0)
    await rig.run(3)
    fault = rig.status.fault
    assert fault is not None and "welded" in fault.text and fault.kind is FaultKind.CONTACTOR
    assert rig.driver.pilot.signal == PilotSignal.x1()
    assert rig.status.contactor_closed  # the feedback tells the truth


async def test_cp_levels_are_classified_like_a_real_adc():
    clock = FakeClock()
    ev = SimulatedEv(SimulatorSettings(), clock)
    high, low = ev.cp_levels()
    assert high == pytest.approx(8.98, abs=0.01) and low == high  # B, X1
    ev.set_pilot(PilotSignal.pwm(16))
    clock.advance(1.0)
    ev.step()
    high, low = ev.cp_levels()
    assert high == pytest.approx(6.0, abs=0.01) and low == -12.0  # C, PWM


@pytest.mark.parametrize(
    "kwargs", [{"phases": 2}, {"voltage_v": 0}, {"ev_response_s": -1}, {"ev_max_current_a": -1}]
)
def test_settings_validation(kwargs):
    with pytest.raises(ValueError, match="sim"):
        SimulatorSettings(**kwargs)


async def test_close_leaves_x1_and_contactor_open():
    rig = await charging_rig()
    await rig.driver.close()
    assert rig.ev.pilot_mode is PilotMode.X1 and not rig.ev.contactor_closed
    await rig.driver.close()
