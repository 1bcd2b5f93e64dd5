"""The end-of-line test's verdicts, free of I/O: measurements in, pass or fail with the reason.

Limits and why:
* pilot levels: the classified state must be the expected one and the high level within
  `LEVEL_TOLERANCE_V` of the rig's nominal voltage (a 1 % resistor rig on a +-5 % generator
  stays well inside 1 V; a wrong divider calibration does not);
* duty: IEC 61851-1 allows +-5 us of high time, +-0.5 percentage points at 1 kHz;
  frequency 980-1020 Hz;
* contactor: opening within 100 ms of the command (the standard's budget after C -> B),
  closing within 500 ms (a relay and a contactor coil; the standard allows 3 s, a slower
  close means a weak coil supply);
* meter: every phase voltage within +-15 % of the nominal, no current with the contactor open,
  a finite, non-negative energy register.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from hw.base import CpState, MeterSample
from hw.ev_rig_circuit import RigSwitch, cp_levels_v
from hw.iec61851 import diode_check_failed

LEVEL_TOLERANCE_V = 1.0
DUTY_TOLERANCE_PERCENT = 0.5
FREQUENCY_HZ = (980.0, 1020.0)
CONTACTOR_OPEN_BUDGET_S = 0.1
CONTACTOR_CLOSE_BUDGET_S = 0.5
METER_VOLTAGE_TOLERANCE = 0.15
METER_IDLE_CURRENT_MAX_A = 0.5
DUTY_CURRENTS_A = (6.0, 10.0, 16.0, 32.0)


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class StepResult:
    """One line of the report; `measured` and `expected` are for people, `values` for scripts."""

    name: str
    verdict: Verdict
    measured: str
    expected: str
    detail: str = ""
    values: tuple[tuple[str, float], ...] = ()


# Which rig switches make each state, with the generator at X1 (F: the generator at -12 V).
STATE_SWITCHES: dict[CpState, frozenset[RigSwitch]] = {
    CpState.A: frozenset(),
    CpState.B: frozenset({RigSwitch.PLUG}),
    CpState.C: frozenset({RigSwitch.PLUG, RigSwitch.REQUEST}),
    CpState.D: frozenset({RigSwitch.PLUG, RigSwitch.VENTILATION}),
    CpState.E: frozenset({RigSwitch.SHORT}),
    CpState.F: frozenset({RigSwitch.PLUG}),
}


def nominal_high_v(state: CpState) -> float:
    """The CP high level the rig produces for `state` with a nominal generator."""
    duty = 0.0 if state is CpState.F else 100.0
    return cp_levels_v(duty, STATE_SWITCHES[state])[0]


def check_level(state: CpState, seen: CpState, high_v: float | None, switches: str) -> StepResult:
    expected_v = nominal_high_v(state)
    name = f"pilot level {state}"
    expected = f"state {state}, {expected_v:+.1f} V +- {LEVEL_TOLERANCE_V:g}"
    if high_v is None or not math.isfinite(high_v):
        return StepResult(name, Verdict.FAIL, f"state {seen}, no level", expected, switches)
    measured = f"state {seen}, {high_v:+.2f} V"
    values = (("high_v", high_v),)
    if seen is not state:
        detail = f"{switches}: the rig or the CP read-back is miswired (see docs/hil.md)"
        return StepResult(name, Verdict.FAIL, measured, expected, detail, values)
    if abs(high_v - expected_v) > LEVEL_TOLERANCE_V:
        detail = "right state, level off: calibrate adc_volts_per_unit / adc_offset_v"
        return StepResult(name, Verdict.FAIL, measured, expected, detail, values)
    return StepResult(name, Verdict.PASS, measured, expected, switches, values)


def check_diode(low_v: float | None) -> StepResult:
    """While PWM runs with a car plugged in, the low level must be about -12 V."""
    expected = "low level <= -10.9 V during PWM"
    if low_v is None:
        return StepResult("diode check", Verdict.SKIP, "no low level", expected, "single ADC")
    measured = f"{low_v:+.2f} V"
    if diode_check_failed(low_v):
        detail = "the negative peak detector or the -12 V supply of the CP stage"
        return StepResult("diode check", Verdict.FAIL, measured, expected, detail)
    return StepResult("diode check", Verdict.PASS, measured, expected, "", (("low_v", low_v),))


def check_duty(
    current_a: float, wanted_percent: float, duty_percent: float, frequency_hz: float, source: str
) -> StepResult:
    name = f"duty at {current_a:g} A"
    expected = (
        f"{wanted_percent:.2f} % +- {DUTY_TOLERANCE_PERCENT:g}, "
        f"{FREQUENCY_HZ[0]:g}-{FREQUENCY_HZ[1]:g} Hz"
    )
    measured = f"{duty_percent:.2f} %, {frequency_hz:.1f} Hz"
    values = (("duty_percent", duty_percent), ("frequency_hz", frequency_hz))
    low, high = FREQUENCY_HZ
    if abs(duty_percent - wanted_percent) > DUTY_TOLERANCE_PERCENT:
        return StepResult(name, Verdict.FAIL, measured, expected, f"{source}: duty", values)
    if not low <= frequency_hz <= high:
        return StepResult(name, Verdict.FAIL, measured, expected, f"{source}: frequency", values)
    return StepResult(name, Verdict.PASS, measured, expected, source, values)


def check_contactor(close_s: float | None, open_s: float | None, has_feedback: bool) -> StepResult:
    """`close_s`/`open_s`: time from the relay command to the feedback; None = never seen."""
    expected = (
        f"feedback closes <= {CONTACTOR_CLOSE_BUDGET_S * 1000:g} ms, "
        f"opens <= {CONTACTOR_OPEN_BUDGET_S * 1000:g} ms"
    )
    if not has_feedback:
        return StepResult(
            "contactor", Verdict.SKIP, "no feedback input", expected, "set contactor_feedback_gpio"
        )

    def ms(value: float | None) -> str:
        return "never" if value is None else f"{value * 1000:.0f} ms"

    measured = f"closed after {ms(close_s)}, opened after {ms(open_s)}"
    values = tuple(
        (key, value)
        for key, value in (("close_s", close_s), ("open_s", open_s))
        if value is not None
    )
    if close_s is None:
        detail = "the feedback never closed: relay, coil supply or feedback wiring"
        return StepResult("contactor", Verdict.FAIL, measured, expected, detail, values)
    if open_s is None:
        detail = "WELDED: the feedback stays closed after the relay opened; do not ship"
        return StepResult("contactor", Verdict.FAIL, measured, expected, detail, values)
    if close_s > CONTACTOR_CLOSE_BUDGET_S or open_s > CONTACTOR_OPEN_BUDGET_S:
        return StepResult("contactor", Verdict.FAIL, measured, expected, "too slow", values)
    return StepResult("contactor", Verdict.PASS, measured, expected, "", values)


def check_meter(sample: MeterSample, nominal_v: float, phases: int) -> StepResult:
    low_v = nominal_v * (1 - METER_VOLTAGE_TOLERANCE)
    high_v = nominal_v * (1 + METER_VOLTAGE_TOLERANCE)
    expected = (
        f"{low_v:.0f}-{high_v:.0f} V on {phases} phase(s), "
        f"<= {METER_IDLE_CURRENT_MAX_A:g} A idle, energy >= 0"
    )
    volts = sample.voltage_v[:phases]
    measured = (
        "/".join(f"{v:.0f}" for v in volts)
        + f" V, {max(sample.current_a):.2f} A, {sample.energy_wh / 1000:.3f} kWh"
    )
    values = (("energy_wh", sample.energy_wh), ("max_current_a", max(sample.current_a)))
    problems = []
    if not all(math.isfinite(v) and low_v <= v <= high_v for v in volts):
        problems.append("voltage out of range: wiring, phase order or the meter's device id")
    if max(sample.current_a) > METER_IDLE_CURRENT_MAX_A:
        problems.append("current flows with the contactor open")
    if not math.isfinite(sample.energy_wh) or sample.energy_wh < 0:
        problems.append("energy register implausible")
    verdict = Verdict.FAIL if problems else Verdict.PASS
    return StepResult("meter", verdict, measured, expected, "; ".join(problems), values)


def overall(results: list[StepResult]) -> Verdict:
    if any(r.verdict is Verdict.FAIL for r in results):
        return Verdict.FAIL
    return Verdict.PASS
