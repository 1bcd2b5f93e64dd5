"""The guard closing the loop: simulated house, grid meter, pilot and car (issue 14, items 1-3)."""

import asyncio

from controller.charger.binding import LimitSource
from controller.charger.fuse_guard import FuseLimitKind
from tests.energy.house_rig import house_rig, seconds_over


def test_a_20_a_step_on_l2_pauses_within_2_s_and_l2_stays_under_the_fuse():
    rig = house_rig()

    async def go():
        await rig.start()
        await rig.run(20)
        assert rig.unit.status.offered_a == 16.0
        assert rig.evs[0].drawn_current_a == 16.0
        rig.trace.clear()
        step_t = rig.clock.monotonic() - 1000.0 + 0.35  # between two meter readings
        await rig.run(0.35)
        rig.house.set_load((1.0, 21.0, 1.0))
        await rig.run(10)
        return step_t

    step_t = asyncio.run(go())
    lowered = next(t for t, _, offered in rig.trace if t > step_t and offered < 16.0)
    assert lowered - step_t <= 2.0
    # 21 A of house load leaves 3 A under 25 - 1: under 6 A, so the car is paused.
    assert rig.unit.target_a == 0.0
    assert rig.unit.limit_source is LimitSource.MAIN_FUSE
    assert rig.unit.fuse_limit.text() == "main fuse: L2 at 21.0 A of 25 A"
    assert seconds_over(rig.trace, 1, 25.0) <= 2.0
    assert max(g[1] for t, g, _ in rig.trace if t > step_t + 2.0) <= 25.0


def test_a_smaller_step_lowers_the_offer_and_recovers_slowly_after_the_load_goes():
    rig = house_rig()

    async def go():
        await rig.start()
        await rig.run(20)
        rig.house.set_load((1.0, 13.0, 1.0))  # L2: 13 + 16 = 29 A
        await rig.run(3)
        lowered = rig.unit.status.offered_a
        assert rig.unit.fuse_limit.phase == 1
        await rig.run(10)
        steady_l2 = rig.grid.currents_a()[1]
        rig.house.set_load((1.0, 1.0, 1.0))
        await rig.run(20)
        held = rig.unit.status.offered_a
        await rig.run(20)
        return lowered, steady_l2, held, rig.unit.status.offered_a

    lowered, steady_l2, held, recovered = asyncio.run(go())
    assert lowered == 11.0  # 25 - 1 - 13
    assert steady_l2 <= 24.0
    assert held == 11.0  # 20 s of headroom is not yet 30 s
    assert recovered == 16.0
    assert seconds_over(rig.trace, 1, 25.0) <= 2.0


def test_silent_meter_gives_the_fallback_within_the_configured_time_then_recovers():
    rig = house_rig()

    async def go():
        await rig.start()
        await rig.run(20)
        assert rig.unit.status.offered_a == 16.0
        rig.grid.silent = True
        await rig.run(10)
        before = rig.unit.status.offered_a
        await rig.run(2.5)
        fallback = rig.unit.status.offered_a
        kind = rig.unit.fuse_limit.kind
        text = rig.unit.fuse_limit.text()
        rig.grid.silent = False
        await rig.run(35)
        return before, fallback, kind, text, rig.unit.status.offered_a

    before, fallback, kind, text, recovered = asyncio.run(go())
    assert before == 16.0  # 10 s of silence is still within silent_after_s
    assert fallback == 6.0
    assert kind is FuseLimitKind.SILENT
    assert text.startswith("main fuse: grid meter silent for 1")
    assert recovered == 16.0


def test_a_one_phase_connector_on_l2_is_guarded_by_l2_only():
    rig = house_rig(rotations=((1,),), phases=(1,))

    async def go():
        await rig.start()
        await rig.run(20)
        rig.house.set_load((20.0, 10.0, 20.0))  # heavy on L1 and L3: no matter for this car
        await rig.run(5)
        other = rig.unit.status.offered_a
        rig.house.set_load((1.0, 12.0, 1.0))
        await rig.run(5)
        return other, rig.unit.status.offered_a

    other, own = asyncio.run(go())
    assert other == 14.0  # 25 - 1 - 10, L2
    assert own == 12.0


def test_a_meter_that_raises_anything_only_ages_the_reading():
    rig = house_rig()

    class Broken:
        async def read_grid(self):
            raise ValueError("garbled frame")

    async def go():
        await rig.start()
        await rig.run(5)
        rig.fuse.meter = Broken()
        ok = await rig.fuse.read_once()
        await rig.run(12)
        return ok

    assert asyncio.run(go()) is False
    assert rig.fuse.failures >= 10
    assert rig.unit.fuse_limit.kind is FuseLimitKind.SILENT
