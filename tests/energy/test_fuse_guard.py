"""The pure main-fuse guard: per-phase headroom, rotation, hysteresis, the silent meter."""

import pytest

from controller.charger.fuse_guard import (
    FuseGuard,
    FuseGuardConfig,
    FuseLimitKind,
    GridReading,
    OwnDraw,
    grid_phases,
    parse_rotation,
    raw_caps,
)

CFG = FuseGuardConfig(main_fuse_a=25.0, margin_a=1.0, silent_after_s=10.0, increase_after_s=30.0)


def test_the_loaded_phase_sets_the_cap_not_the_sum():
    # House: 20 A on L2 only; our three-phase car draws 10 A on every phase.
    grid = (10.0, 30.0, 10.0)
    caps = raw_caps(CFG, grid, [OwnDraw(1, (0, 1, 2), 10.0)])
    # Baseload L2 = 20 A, headroom = 25 - 1 - 20 = 4 A.
    assert caps[1] == (4.0, 1)


def test_a_one_phase_car_on_another_phase_is_not_limited_by_l2():
    grid = (10.0, 20.0, 0.0)  # car on L1 draws 10 A, house has 20 A on L2
    caps = raw_caps(CFG, grid, [OwnDraw(1, (0,), 10.0)])
    assert caps[1] == (24.0, 0)
    caps = raw_caps(CFG, grid, [OwnDraw(1, (1,), 0.0)])
    assert caps[1] == (4.0, 1)


def test_export_is_headroom():
    caps = raw_caps(CFG, (-10.0, -10.0, -10.0), [OwnDraw(1, (0, 1, 2), 0.0)])
    assert caps[1] == (34.0, 0)


def test_two_connectors_on_one_phase_share_its_headroom():
    grid = (8.0, 0.0, 0.0)
    caps = raw_caps(CFG, grid, [OwnDraw(1, (0,), 0.0), OwnDraw(2, (0,), 0.0)])
    assert caps[1][0] == caps[2][0] == 8.0  # (24 - 8) / 2


def test_a_phase_too_tight_for_two_cars_feeds_one_not_none():
    grid = (1.0, 14.0, 1.0)  # 24 - 14 = 10 A on L2: two shares of 5 A would pause both
    draws = [OwnDraw(2, (0, 1, 2), 0.0), OwnDraw(1, (1, 2, 0), 0.0)]
    caps = raw_caps(CFG, grid, draws)
    assert caps[1] == (10.0, 1) and caps[2] == (0.0, 1)
    assert sum(c for c, _ in caps.values()) <= 10.0


def test_decrease_at_once_increase_after_stable_headroom():
    guard = FuseGuard(CFG)
    car = [OwnDraw(1, (0, 1, 2), 16.0)]
    assert guard.caps(GridReading((18.0, 18.0, 18.0), 0.0), car, 0.0)[1].cap_a == 22.0
    # A 20 A step on L2: the very next reading lowers the cap.
    low = guard.caps(GridReading((18.0, 38.0, 18.0), 1.0), car, 1.0)[1]
    assert low.cap_a == 2.0 and low.phase == 1 and low.kind is FuseLimitKind.PHASE
    assert low.text() == "main fuse: L2 at 38.0 A of 25 A"
    # The load goes; the car now draws only 2 A: headroom is back but the cap holds for 30 s.
    car = [OwnDraw(1, (0, 1, 2), 2.0)]
    for t in range(2, 31):
        assert guard.caps(GridReading((4.0, 4.0, 4.0), t), car, t)[1].cap_a == 2.0
    held = guard.caps(GridReading((4.0, 4.0, 4.0), 30.0), car, 30.0)[1]
    assert held.kind is FuseLimitKind.HOLDING
    assert held.text() == "main fuse: L1 at 4.0 A of 25 A, holding 2 A for 2 s more"
    # A dip during the wait: the raise goes to what was there the whole time.
    guard.caps(GridReading((4.0, 10.0, 4.0), 31.0), car, 31.0)
    raised = guard.caps(GridReading((4.0, 4.0, 4.0), 32.0), car, 32.0)[1]
    assert raised.cap_a == 16.0  # 24 - (10 - 2)


def test_a_decrease_during_the_wait_restarts_it():
    guard = FuseGuard(FuseGuardConfig(main_fuse_a=25.0, increase_after_s=10.0))
    car = [OwnDraw(1, (0, 1, 2), 0.0)]
    guard.caps(GridReading((20.0, 20.0, 20.0), 0.0), car, 0.0)  # cap 4
    guard.caps(GridReading((10.0, 10.0, 10.0), 1.0), car, 1.0)  # more headroom, wait starts
    assert guard.caps(GridReading((22.0, 22.0, 22.0), 5.0), car, 5.0)[1].cap_a == 2.0
    assert guard.caps(GridReading((10.0, 10.0, 10.0), 12.0), car, 12.0)[1].cap_a == 2.0
    assert guard.caps(GridReading((10.0, 10.0, 10.0), 22.0), car, 22.0)[1].cap_a == 14.0


def test_silent_meter_gives_the_fallback_and_says_why():
    guard = FuseGuard(CFG)
    car = [OwnDraw(1, (0, 1, 2), 0.0)]
    reading = GridReading((1.0, 1.0, 1.0), 100.0)
    assert guard.caps(reading, car, 110.0)[1].kind is FuseLimitKind.PHASE
    silent = guard.caps(reading, car, 110.5)[1]
    assert silent.kind is FuseLimitKind.SILENT and silent.cap_a == 6.0
    assert "grid meter silent for 10 s, fallback 6 A" in silent.text()
    none = guard.caps(None, car, 0.0)[1]
    assert none.kind is FuseLimitKind.NO_READING and none.cap_a == 6.0


def test_rotation_parsing():
    assert parse_rotation("L2L3L1") == (1, 2, 0)
    assert parse_rotation("l2") == (1,)
    assert grid_phases((1, 2, 0), 1) == (1,)
    for bad in ("L1L1L2", "L4", "L1L2", "", "X1Y2"):
        with pytest.raises(ValueError):
            parse_rotation(bad)


def test_margin_must_fit_under_the_fuse():
    with pytest.raises(ValueError, match="margin_a"):
        FuseGuardConfig(main_fuse_a=10.0, margin_a=10.0)
