"""The control loop with two simulated connectors sharing a station cap, on a fake clock."""

import asyncio
from datetime import UTC, datetime, timedelta

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.clock import FakeClock
from hw.sim import SimulatorSettings, build_sim_connector

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def cap(limit):
    return {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def rig():
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=2))
    units = []
    for cid in (1, 2):
        d, m, _ = build_sim_connector(SimulatorSettings(ev_response_s=0.2), clock, 32.0)
        units.append(ConnectorUnit(cid, d, m, 32.0))
    starts = {1: T0, 2: T0 + timedelta(minutes=5)}
    changes = []
    loop = ControlLoop(
        units,
        store,
        clock,
        permit=lambda c: True,
        session_start=starts.get,
        on_change=changes.append,
    )
    for cid, at in starts.items():
        store.transaction_started(cid, cid, at)
    return clock, store, loop, units, changes


def run(loop, clock, seconds):
    async def go():
        for u in loop.units:
            await u.driver.start()
        for _ in range(round(seconds / 0.1)):
            clock.advance(0.1)
            await loop.tick()

    asyncio.run(go())


def test_equal_share_then_the_later_session_pauses():
    clock, store, loop, units, changes = rig()
    store.set_charging_profile(0, cap(20), T0)
    run(loop, clock, 3)
    assert [u.target_a for u in units] == [10.0, 10.0]
    assert [u.status.offered_a for u in units] == [10.0, 10.0]
    store.set_charging_profile(0, cap(10), T0)
    run(loop, clock, 0.2)
    # 5 A each would be unusable: connector 2 started later and pauses, 1 gets the 10 A
    # (a decrease on 1 waits for the 5 s duty spacing; the pause on 2 is at once).
    assert units[1].status.offered_a == 0.0
    assert [u.target_a for u in units] == [10.0, 0.0]
    assert {1, 2} <= set(changes)


def test_station_limit_from_the_configuration():
    clock, _store, loop, units, _ = rig()
    loop._station_max_a = 16.0
    run(loop, clock, 3)
    assert [u.target_a for u in units] == [8.0, 8.0]
    assert loop.healthy()
