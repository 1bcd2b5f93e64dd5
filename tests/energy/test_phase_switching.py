"""Switching between one and three phases (issue 14, items 6-8): driven by a numberPhases: 1
profile and by the main-fuse guard, the whole sequence read off the pilot output, the contactor
and the phase relay of the simulated connector; never under load; rate-limited; a car that fails
on the new setting is switched back once and switching is then off for the session."""

import asyncio

from controller.charger.phase_choice import PhaseReason
from hw.base import PilotMode
from hw.phase_switch import PhaseSwitchConfig, SwitchStep
from tests.energy.house_rig import T0, house_rig

SWITCH = PhaseSwitchConfig(wait_s=10.0, min_interval_s=300.0, confirm_s=60.0)


def one_phase_profile(limit_a=16, phases=1):
    return {
        "chargingProfileId": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": limit_a, "numberPhases": phases}
            ],
        },
    }


def devices(rig):
    d = rig.unit.driver
    return d.output.history, d.contactor.history, d.phase_switch.history


def assert_full_sequence(rig, since_s, to_phases):
    """X1, then the contactor opens, then the relay (with nothing flowing), then wait_s, then
    PWM again, then the contactor closes."""
    pilot, contactor, relay = devices(rig)
    switch = next(h for h in relay if h[0] >= since_s and h[1] == to_phases)
    t_switch = switch[0]
    x1 = [t for t, s in pilot if since_s <= t <= t_switch and s.mode is PilotMode.X1]
    opened = [t for t, closed in contactor if since_s <= t <= t_switch and not closed]
    assert x1 and opened, (pilot[-5:], contactor[-5:])
    assert x1[0] <= opened[-1] <= t_switch
    t_pwm = next(t for t, s in pilot if t > t_switch and s.mode is PilotMode.PWM)
    assert t_pwm - t_switch >= SWITCH.wait_s - 1e-6
    t_close = next(t for t, closed in contactor if t > t_switch and closed)
    assert t_close > t_pwm
    return t_switch


def never_under_load(rig):
    _, _, relay = devices(rig)
    assert relay, "the relay never switched"
    for _t, _phases, contactor_closed, drawn_a in relay:
        assert not contactor_closed and drawn_a == 0.0


def test_a_number_phases_1_profile_switches_to_one_phase_and_the_rate_limit_holds():
    rig = house_rig(fuse_a=63.0, phase_switch=SWITCH, up_after_s=0.0)
    assert rig.unit.driver.capabilities.can_switch_phases

    async def go():
        await rig.start()
        await rig.run(20)
        assert rig.evs[0].phases_drawn == 3 and rig.evs[0].drawn_current_a == 16.0
        t0 = rig.clock.monotonic()
        rig.store.set_charging_profile(1, one_phase_profile(), T0)
        await rig.run(40)
        t_first = assert_full_sequence(rig, t0, to_phases=1)
        assert rig.evs[0].phases_drawn == 1 and rig.evs[0].drawn_current_a == 16.0
        assert rig.grid.currents_a()[1] == rig.house.load_a()[1]  # nothing on L2 now
        assert rig.unit.phase_reason is PhaseReason.PROFILE
        assert rig.unit.sample.current_a == (16.0, 0.0, 0.0)  # MeterValues' Current.Import
        # The profile goes: three phases fit at once, but not before 300 s after the switch.
        rig.store.clear_charging_profile(profile_id=7)
        await rig.run(200)
        assert rig.evs[0].phases_drawn == 1
        assert rig.unit.phases == 3  # wanted, held back by the rate limit
        await rig.run(150)
        t_second = assert_full_sequence(rig, t_first + 1, to_phases=3)
        assert t_second - t_first >= SWITCH.min_interval_s
        assert rig.evs[0].phases_drawn == 3 and rig.evs[0].drawn_current_a == 16.0

    asyncio.run(go())
    never_under_load(rig)


def test_the_fuse_guard_switches_to_one_phase_when_three_by_6_a_do_not_fit():
    # 16 A fuse, no margin: 12 A of house on L2 leaves 4 A there (three phases cannot start)
    # but 15 A on L1, where a one-phase car charges.
    rig = house_rig(fuse_a=16.0, margin_a=0.0, rating_a=10.0, phase_switch=SWITCH)

    async def go():
        await rig.start()
        await rig.run(20)
        assert rig.evs[0].phases_drawn == 3
        t0 = rig.clock.monotonic()
        rig.house.set_load((1.0, 12.0, 1.0))
        await rig.run(3)
        assert rig.unit.target_a == 0.0  # paused at once for the fuse
        await rig.run(60)
        assert_full_sequence(rig, t0, to_phases=1)
        assert rig.unit.phase_reason is PhaseReason.MAIN_FUSE
        assert rig.evs[0].phases_drawn == 1 and rig.evs[0].drawn_current_a == 10.0
        assert max(g[1] for t, g, _ in rig.trace if t > t0 - 1000 + 3) <= 16.0

    asyncio.run(go())
    never_under_load(rig)


def test_a_car_that_fails_on_one_phase_is_switched_back_once_then_switching_is_off():
    rig = house_rig(fuse_a=63.0, phase_switch=SWITCH)
    rig.evs[0].refuses_phases = {1}

    async def go():
        await rig.start()
        await rig.run(20)
        rig.store.set_charging_profile(1, one_phase_profile(), T0)
        await rig.run(40)
        assert rig.evs[0].phases_drawn == 1 and rig.evs[0].drawn_current_a == 0.0
        await rig.run(90)  # confirm_s without charging: back to three phases
        report = rig.unit.driver.phase_switch_report()
        assert rig.evs[0].phases_drawn == 3 and rig.evs[0].drawn_current_a == 16.0
        assert report.disabled and report.switches == 2 and report.step is SwitchStep.IDLE
        assert report.last_result == (
            "charging on 3 phase(s) again after the car did not charge on 1: "
            "switching disabled for this session"
        )
        await rig.run(400)  # the profile still asks for one phase: no more switching
        assert rig.unit.driver.phase_switch_report().switches == 2
        assert rig.evs[0].drawn_current_a == 16.0

    asyncio.run(go())
    never_under_load(rig)


def test_a_watt_limit_without_number_phases_keeps_its_power_on_one_phase():
    # 4140 W is 6 A on three phases; on one phase the same power is 18 A (the fuse allows 15).
    rig = house_rig(fuse_a=16.0, margin_a=0.0, rating_a=32.0, phase_switch=SWITCH)
    watts = one_phase_profile(limit_a=4140, phases=None)
    watts["chargingSchedule"]["chargingRateUnit"] = "W"
    del watts["chargingSchedule"]["chargingSchedulePeriod"][0]["numberPhases"]

    async def go():
        await rig.start()
        rig.store.set_charging_profile(1, watts, T0)
        await rig.run(20)
        assert rig.evs[0].phases_drawn == 3 and rig.unit.status.offered_a == 6.0
        rig.house.set_load((1.0, 12.0, 1.0))  # three phases no longer fit, one does
        await rig.run(90)
        assert rig.evs[0].phases_drawn == 1
        ev = rig.evs[0]
        return rig.unit.status.offered_a, ev.drawn_current_a, ev.power_w

    offered, drawn, power_w = asyncio.run(go())
    assert offered == 15.0 and drawn == 15.0
    assert power_w <= 4140.0
    never_under_load(rig)
