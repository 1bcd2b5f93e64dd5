from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw.base import CpState
from hw.iec61851 import (
    CpBands,
    CpClassifier,
    classify_cp_voltage,
    current_for_duty_cycle,
    diode_check_failed,
    duty_cycle_for_current,
    ev_current_for_duty_cycle,
)


@pytest.mark.parametrize(
    ("current_a", "duty_percent"),
    [
        (6, 10.0),
        (10, 16.667),
        (13, 21.667),
        (16, 26.667),
        (20, 33.333),
        (32, 53.333),
        (40, 66.667),
        (51, 85.0),
        (63, 89.2),
        (80, 96.0),
    ],
)
def test_duty_table(current_a: float, duty_percent: float) -> None:
    assert duty_cycle_for_current(current_a) == pytest.approx(duty_percent, abs=0.001)


def test_sysfs_duty_in_ns_matches_reference_table() -> None:
    assert round(duty_cycle_for_current(16) * 10_000) == 266_667
    assert round(duty_cycle_for_current(63) * 10_000) == 892_000


@pytest.mark.parametrize("bad", [0.0, 5.99, 80.01, -6.0, math.nan, math.inf])
def test_duty_rejects_currents_the_pilot_cannot_signal(bad: float) -> None:
    with pytest.raises(ValueError):
        duty_cycle_for_current(bad)


@pytest.mark.parametrize("bad", [9.99, 96.01, 5.0, 100.0, math.nan])
def test_current_rejects_duty_outside_10_to_96(bad: float) -> None:
    with pytest.raises(ValueError):
        current_for_duty_cycle(bad)


@pytest.mark.parametrize(
    ("duty_percent", "current_a"), [(10, 6), (26.667, 16.0), (85, 51), (89.2, 63), (96, 80)]
)
def test_current_for_duty_cycle_table(duty_percent: float, current_a: float) -> None:
    assert current_for_duty_cycle(duty_percent) == pytest.approx(current_a, abs=0.001)


@given(st.integers(min_value=60, max_value=800))
def test_round_trip_in_tenth_amp_steps(deci_a: int) -> None:
    current_a = deci_a / 10
    back = current_for_duty_cycle(duty_cycle_for_current(current_a))
    if 51 < current_a <= 52.5:
        # Not signallable: offered as 51 A, never more than the limit.
        assert back == pytest.approx(51.0)
    else:
        assert back == pytest.approx(current_a, abs=0.01)


@given(st.floats(min_value=6, max_value=80), st.floats(min_value=6, max_value=80))
def test_duty_is_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert duty_cycle_for_current(lo) <= duty_cycle_for_current(hi)


@given(st.floats(min_value=6, max_value=80))
def test_car_never_reads_more_than_offered(current_a: float) -> None:
    read = ev_current_for_duty_cycle(duty_cycle_for_current(current_a))
    assert read is not None
    assert read <= current_a + 1e-9


@pytest.mark.parametrize(
    ("duty", "expected"),
    [
        (5.0, None),
        (7.5, None),
        (8.0, 6.0),
        (9.9, 6.0),
        (96.5, 80.0),
        (97.5, None),
        (100, None),
        (0.0, None),
    ],
)
def test_ev_interpretation_of_edge_duties(duty: float, expected: float | None) -> None:
    assert ev_current_for_duty_cycle(duty) == expected


@pytest.mark.parametrize(
    ("volts", "state"),
    [
        (12.0, CpState.A),
        (11.0, CpState.A),
        (10.99, CpState.B),
        (9.0, CpState.B),
        (7.6, CpState.B),
        (7.59, CpState.C),
        (6.0, CpState.C),
        (4.59, CpState.D),
        (3.0, CpState.D),
        (1.49, CpState.E),
        (0.0, CpState.E),
        (-1.51, CpState.F),
        (-12.0, CpState.F),
    ],
)
def test_bands_without_history(volts: float, state: CpState) -> None:
    assert classify_cp_voltage(volts) is state


def test_hysteresis_holds_state_near_a_threshold() -> None:
    c = CpClassifier()
    assert c.classify(9.0) is CpState.B
    assert c.classify(11.2) is CpState.B  # within 0.3 V above the A edge: still B
    assert c.classify(11.31) is CpState.A
    assert c.classify(10.8) is CpState.A  # within 0.3 V below: still A
    assert c.classify(10.69) is CpState.B
    assert c.classify(7.4) is CpState.B
    assert c.classify(7.29) is CpState.C
    assert c.classify(7.8) is CpState.C
    assert c.classify(7.91) is CpState.B


def test_hysteresis_does_not_hold_a_far_jump() -> None:
    c = CpClassifier()
    c.classify(6.0)
    assert c.classify(12.0) is CpState.A
    assert c.classify(-12.0) is CpState.F


def test_diode_check() -> None:
    assert not diode_check_failed(-12.0)
    assert diode_check_failed(-9.0)
    assert diode_check_failed(6.0)
    assert not diode_check_failed(None)


@pytest.mark.parametrize(
    "kwargs",
    [{"b_min_v": 12.0}, {"hysteresis_v": -0.1}, {"hysteresis_v": 5.0}, {"c_min_v": math.nan}],
)
def test_bands_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CpBands(**kwargs)
