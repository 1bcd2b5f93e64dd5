"""The end-of-line limits, one measurement at a time."""

from __future__ import annotations

import pytest

from controller.selftest.checks import (
    Verdict,
    check_contactor,
    check_diode,
    check_duty,
    check_level,
    check_meter,
    nominal_high_v,
    overall,
)
from controller.selftest.rig import parse_gpios
from hw.base import CpState, MeterSample
from hw.ev_rig_circuit import RigSwitch


def test_level_state_and_tolerance():
    assert check_level(CpState.B, CpState.B, 9.1, "plug").verdict is Verdict.PASS
    off = check_level(CpState.B, CpState.B, 7.7, "plug")
    assert off.verdict is Verdict.FAIL and "calibrate" in off.detail
    wrong = check_level(CpState.C, CpState.B, 9.0, "plug (GPIO5) + request (GPIO6)")
    assert wrong.verdict is Verdict.FAIL and "GPIO6" in wrong.detail
    assert check_level(CpState.A, CpState.A, None, "").verdict is Verdict.FAIL
    assert nominal_high_v(CpState.F) == -12.0


@pytest.mark.parametrize(
    ("duty", "freq", "verdict"),
    [(26.667, 1000, "pass"), (27.1, 1000, "pass"), (27.2, 1000, "fail"), (26.667, 1021, "fail")],
)
def test_duty_tolerance(duty, freq, verdict):
    assert check_duty(16, 26.667, duty, freq, "x").verdict.value == verdict


def test_contactor_timing_and_welding():
    assert check_contactor(0.02, 0.02, has_feedback=True).verdict is Verdict.PASS
    assert check_contactor(0.02, 0.15, has_feedback=True).detail == "too slow"
    assert "WELDED" in check_contactor(0.02, None, has_feedback=True).detail
    assert "never closed" in check_contactor(None, 0.0, has_feedback=True).detail
    assert check_contactor(None, None, has_feedback=False).verdict is Verdict.SKIP


def test_meter_plausibility():
    good = MeterSample(10.0, 0.0, (0.0, 0.0, 0.0), (230.0, 229.0, 231.0))
    assert check_meter(good, 230.0, 3).verdict is Verdict.PASS
    one_phase = MeterSample(10.0, 0.0, (0.0, 0.0, 0.0), (230.0, 0.0, 0.0))
    assert check_meter(one_phase, 230.0, 1).verdict is Verdict.PASS
    assert "voltage" in check_meter(one_phase, 230.0, 3).detail
    flowing = MeterSample(10.0, 0.0, (3.0, 0.0, 0.0), (230.0, 230.0, 230.0))
    assert "current flows" in check_meter(flowing, 230.0, 3).detail
    negative = MeterSample(-1.0, 0.0, (0.0, 0.0, 0.0), (230.0, 230.0, 230.0))
    assert "energy" in check_meter(negative, 230.0, 3).detail


def test_diode_and_overall():
    assert check_diode(-12.0).verdict is Verdict.PASS
    assert check_diode(-2.0).verdict is Verdict.FAIL
    assert overall([check_diode(-12.0), check_diode(None)]) is Verdict.PASS
    assert overall([check_diode(-12.0), check_diode(-2.0)]) is Verdict.FAIL


def test_rig_pin_spec():
    assert parse_gpios("plug=5, request=6") == {RigSwitch.PLUG: 5, RigSwitch.REQUEST: 6}
    with pytest.raises(ValueError, match="not a GPIO number"):
        parse_gpios("plug=40")
