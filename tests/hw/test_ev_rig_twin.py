"""The rig's circuit (the voltages docs/hil.md lists) and the twin's wires: PWM files in, switch
pins in, ADC counts and contactor feedback out."""

from __future__ import annotations

import time

import pytest
from rig_bench import twin_bench

from hw.base import CpState
from hw.cp_adc import mcp300x_sensor
from hw.emulators.ev_rig import RigFaults
from hw.ev_rig_circuit import RigSwitch, adc_counts, cp_levels_v
from hw.gpio import GpioContactor
from hw.iec61851 import classify_cp_voltage
from hw.pilot import PilotSignal
from hw.pwm_sysfs import SysfsPwm

P, R, V, S = RigSwitch.PLUG, RigSwitch.REQUEST, RigSwitch.VENTILATION, RigSwitch.SHORT


@pytest.mark.parametrize(
    ("closed", "high_v", "state"),
    [
        (set(), 12.0, CpState.A),
        ({P}, 8.98, CpState.B),
        ({P, R}, 6.00, CpState.C),
        ({P, V}, 2.93, CpState.D),
        ({S}, 0.0, CpState.E),
        ({R, V}, 12.0, CpState.A),  # no plug: the car's resistors hang behind an open S1
    ],
)
def test_levels_at_x1(closed, high_v, state):
    high, low = cp_levels_v(100.0, frozenset(closed))
    assert high == pytest.approx(high_v, abs=0.01) and low == high
    assert classify_cp_voltage(high) is state


def test_pwm_low_level_and_state_f():
    assert cp_levels_v(26.67, frozenset({P, R})) == pytest.approx((6.0, -12.0), abs=0.01)
    assert cp_levels_v(26.67, frozenset()) == (12.0, -12.0)
    assert cp_levels_v(0.0, frozenset({P})) == (-12.0, -12.0)  # the diode blocks -12 V
    assert cp_levels_v(26.67, frozenset({S})) == (0.0, 0.0)


def test_adc_counts_clamp_to_the_converter_range():
    assert adc_counts(50.0, 27.0, -14.0) == 1023
    assert adc_counts(-50.0, 27.0, -14.0) == 0


def test_the_twin_answers_the_real_adc_code_from_the_wires(tmp_path):
    with twin_bench(tmp_path) as bench:
        twin = bench.twin
        assert twin is not None
        pwm = SysfsPwm(root=bench.sys_root)
        sensor = mcp300x_sensor("mcp3004", pin_factory=bench.pins)
        car = bench.car()
        try:
            assert sensor.read().state is CpState.A
            car.make(CpState.C)
            pwm.apply(PilotSignal.pwm(16))
            reading = sensor.read()
            assert reading.state is CpState.C
            assert reading.low_v == pytest.approx(-12.0, abs=0.05)
            (twin.pwm_dir / "enable").write_text("0\n")  # a disabled channel idles at -12 V
            assert sensor.read().state is CpState.F
            assert twin.conversions == 6
        finally:
            car.close()
            sensor.close()
            pwm.close()


def _wait(predicate, timeout_s=2.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.002)
    return predicate()


@pytest.mark.parametrize("welded", [False, True])
def test_contactor_feedback_follows_the_relay_unless_welded(tmp_path, welded):
    with twin_bench(tmp_path, RigFaults(welded=welded, contact_delay_s=0.02)) as bench:
        c = GpioContactor(17, feedback_pin=27, pin_factory=bench.pins)
        try:
            c.set_closed(True)
            assert c.feedback() is False  # the contact is not that fast
            assert _wait(lambda: c.feedback() is True)
            for _ in range(5):  # repeated commands must not leave a stale state behind
                c.set_closed(False)
            assert _wait(lambda: c.feedback() is welded, 0.5)
            time.sleep(0.1)
            assert c.feedback() is welded
        finally:
            c.close()
