"""The CSMS corrects the Pi's clock by hours: Absolute profiles are re-evaluated on the very
next tick; a Relative profile keeps its transaction-start anchor."""

import asyncio
from datetime import UTC, datetime, timedelta

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.clock import FakeClock
from hw.sim import SimulatorSettings, build_sim_connector

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def _iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rig():
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig())
    driver, meter, _ev = build_sim_connector(SimulatorSettings(ev_response_s=0.2), clock, 32.0)
    unit = ConnectorUnit(1, driver, meter, 32.0)
    loop = ControlLoop(
        [unit],
        store,
        clock,
        permit=lambda c: True,
        session_start=lambda c: T0,
        on_change=lambda c: None,
    )
    store.transaction_started(1, 42, T0)
    return clock, store, loop, unit


def test_absolute_profile_applies_on_the_tick_after_a_clock_step():
    clock, store, loop, unit = _rig()
    r = store.set_charging_profile(
        0,
        {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": _iso(T0 + timedelta(hours=3)),
                "duration": 3600,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
            },
        },
        T0,
    )
    assert r.accepted

    async def go():
        await unit.driver.start()
        await loop.tick()
        before = loop.targets(clock.now())[1]
        clock.advance(0.1)
        clock.jump_wall(3 * 3600 + 60)  # NTP or the CSMS steps the clock
        await loop.tick()
        return before, unit.target_a, unit.limit

    before, after, limit = asyncio.run(go())
    assert before == 32.0
    assert after == 10.0 and limit.source.profile_id == 1


def test_relative_profile_keeps_its_anchor_across_a_clock_step():
    clock, store, loop, unit = _rig()
    r = store.set_charging_profile(
        1,
        {
            "chargingProfileId": 2,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16},
                    {"startPeriod": 7200, "limit": 8},
                ],
            },
        },
        T0,
    )
    assert r.accepted

    async def go():
        await unit.driver.start()
        await loop.tick()
        first = unit.target_a
        clock.advance(0.1)
        clock.jump_wall(3600)
        await loop.tick()
        second = unit.target_a
        clock.advance(0.1)
        clock.jump_wall(3600)
        await loop.tick()
        return first, second, unit.target_a

    first, second, third = asyncio.run(go())
    assert store.transaction(1).start == T0  # the anchor did not move
    assert (first, second, third) == (16.0, 16.0, 8.0)
