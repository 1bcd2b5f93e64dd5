import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw.base import CpState
from hw.iec61851 import CpClassifier, current_for_duty_cycle, duty_cycle_for_current


@pytest.mark.parametrize(
    ("amps", "duty"), [(6, 10.0), (16, 26.67), (32, 53.33), (51, 85.0), (63, 89.2), (80, 96.0)]
)
def test_duty_table(amps, duty):
    assert duty_cycle_for_current(amps) == pytest.approx(duty, abs=0.005)


@pytest.mark.parametrize("amps", [0, 5.9, 80.1, -1])
def test_currents_that_cannot_be_signalled(amps):
    with pytest.raises(ValueError, match="cannot be signalled"):
        duty_cycle_for_current(amps)


@pytest.mark.parametrize("duty", [5, 9.9, 96.1, 100])
def test_duties_that_offer_nothing(duty):
    with pytest.raises(ValueError):
        current_for_duty_cycle(duty)


@given(st.one_of(st.floats(6, 51), st.floats(52.51, 80)))
def test_inverse(amps):
    assert current_for_duty_cycle(duty_cycle_for_current(amps)) == pytest.approx(amps)


@given(st.floats(51.01, 52.49))
def test_the_knee_reads_back_low_never_high(amps):
    # IEC 61851-1's two formulas overlap between 51 and 52.5 A: such a duty reads back under
    # the offer (the car takes less), never over it.
    assert current_for_duty_cycle(duty_cycle_for_current(amps)) < amps


@given(
    st.one_of(
        st.tuples(st.floats(6, 51), st.floats(6, 51)),
        st.tuples(st.floats(51.01, 80), st.floats(51.01, 80)),
    )
)
def test_more_current_more_duty_within_each_segment(pair):
    a, b = sorted(pair)
    if b - a > 1e-6:
        assert duty_cycle_for_current(b) > duty_cycle_for_current(a)


@pytest.mark.parametrize(
    ("volts", "state"),
    [
        (12.0, CpState.A),
        (9.0, CpState.B),
        (6.0, CpState.C),
        (3.0, CpState.D),
        (0.0, CpState.E),
        (-12.0, CpState.F),
    ],
)
def test_nominal_levels(volts, state):
    assert CpClassifier().classify(volts) is state


def test_hysteresis_keeps_the_state_near_an_edge():
    c = CpClassifier()
    assert c.classify(9.0) is CpState.B
    assert c.classify(7.5) is CpState.B  # 0.1 V under the C edge: inside the hysteresis
    assert c.classify(7.2) is CpState.C
    assert c.classify(7.7) is CpState.C  # just above the edge, still C
    assert c.classify(8.0) is CpState.B


def test_out_of_band_reading_keeps_the_state():
    c = CpClassifier()
    c.classify(9.0)
    assert c.classify(-5.0) is CpState.B
    assert c.unstable_readings == 1
