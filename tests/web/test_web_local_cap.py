"""The local cap and pause: one more term in the control loop's minimum, shown as the source."""

import asyncio
import json
from datetime import UTC, datetime

from controller.charger.binding import LimitSource
from controller.charger.local import LocalOverrides
from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.clock import FakeClock
from hw.sim import SimulatorSettings, build_sim_connector

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def tx_profile(pid, level, limit):
    return {
        "chargingProfileId": pid,
        "stackLevel": level,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def rig(tmp_path):
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=1))
    d, m, _ = build_sim_connector(SimulatorSettings(ev_response_s=0.2), clock, 32.0)
    unit = ConnectorUnit(1, d, m, 32.0)
    overrides = LocalOverrides(tmp_path / "local.json")
    loop = ControlLoop(
        [unit],
        store,
        clock,
        permit=lambda c: True,
        session_start=lambda c: T0,
        on_change=lambda c: None,
        local_cap_a=overrides.cap_a,
    )
    store.transaction_started(1, 7, T0)
    return clock, store, loop, unit, overrides


def ticks(loop, clock, seconds):
    async def go():
        for u in loop.units:
            await u.driver.start()
        for _ in range(round(seconds / 0.1)):
            clock.advance(0.1)
            await loop.tick()

    asyncio.run(go())


def test_local_cap_lowers_the_offer_and_is_named_as_the_source(tmp_path):
    clock, store, loop, unit, overrides = rig(tmp_path)
    store.set_charging_profile(1, tx_profile(1002, 10, 16.0), T0)
    assert loop.targets(clock.now()) == {1: 16.0}
    assert unit.limit_source is LimitSource.PROFILE

    overrides.set_cap(1, 10.0)
    assert loop.targets(clock.now()) == {1: 10.0}
    assert unit.limit_source is LimitSource.LOCAL_CAP

    # A local cap above the profile cannot raise what the back office allows.
    overrides.set_cap(1, 20.0)
    assert loop.targets(clock.now()) == {1: 16.0}
    assert unit.limit_source is LimitSource.PROFILE

    overrides.set_cap(1, None)
    store.clear_charging_profile(profile_id=1002)
    assert loop.targets(clock.now()) == {1: 32.0}
    assert unit.limit_source is LimitSource.RATING


def test_local_pause_is_immediate_and_the_transaction_stays(tmp_path):
    clock, store, loop, unit, overrides = rig(tmp_path)
    ticks(loop, clock, 3)
    assert unit.target_a == 32.0
    overrides.set_paused(1, True)
    loop.wake()
    ticks(loop, clock, 0.1)  # the next tick, not the next second
    assert unit.target_a == 0.0
    assert unit.status.offered_a == 0.0
    assert unit.limit_source is LimitSource.LOCAL_CAP
    assert store.transaction(1) is not None
    overrides.set_paused(1, False)
    assert loop.targets(clock.now()) == {1: 32.0}


def test_local_settings_survive_a_restart_and_a_broken_file_is_no_cap(tmp_path, caplog):
    path = tmp_path / "local.json"
    first = LocalOverrides(path)
    first.set_cap(1, 12.5)
    first.set_paused(2, True)
    again = LocalOverrides(path)
    assert again.cap_a(1) == 12.5
    assert again.cap_a(2) == 0.0
    assert json.loads(path.read_text())["1"] == {"cap_a": 12.5, "paused": False}

    path.write_text("{not json")
    broken = LocalOverrides(path)
    assert broken.cap_a(1) is None
    assert "unreadable" in caplog.text


def test_every_reason_for_the_offer_is_named(tmp_path):
    clock = FakeClock(T0)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=3))
    units = []
    for cid in (1, 2, 3):
        d, m, _ = build_sim_connector(SimulatorSettings(ev_response_s=0.2), clock, 32.0)
        units.append(ConnectorUnit(cid, d, m, 32.0 if cid != 3 else 13.0))
    permitted = {1: True, 2: True, 3: False}
    loop = ControlLoop(
        units,
        store,
        clock,
        permit=permitted.get,
        session_start=lambda c: T0,
        on_change=lambda c: None,
        station_max_a=40.0,
    )
    # Two sessions share 40 A: each gets 20 A, below its 32 A rating.
    assert loop.targets(clock.now()) == {1: 20.0, 2: 20.0, 3: 0.0}
    assert [u.limit_source for u in units] == [
        LimitSource.SUPPLY_SHARE,
        LimitSource.SUPPLY_SHARE,
        LimitSource.NO_TRANSACTION,
    ]
    permitted.update({2: False, 3: True})
    assert loop.targets(clock.now()) == {1: 27.0, 2: 0.0, 3: 13.0}
    assert units[0].limit_source is LimitSource.SUPPLY_SHARE  # what the 13 A one leaves
    assert units[2].limit_source is LimitSource.RATING  # its own 13 A rating binds
    loop._station_max_a = None
    assert loop.targets(clock.now()) == {1: 32.0, 2: 0.0, 3: 13.0}
    assert units[0].limit_source is LimitSource.RATING
    loop.set_operative(1, False)
    loop.targets(clock.now())
    assert units[0].limit_source is LimitSource.INOPERATIVE
