"""The end-of-line sequence on a finished charger: pilot levels, diode, duty, contactor, meter,
back-office link. Each step is independent: a failing step is recorded and the next one runs,
so one report shows everything wrong with a unit. After every step, and whatever raised, the
contactor is opened and the pilot set to X1 before anything else happens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from controller.selftest.checks import (
    DUTY_CURRENTS_A,
    StepResult,
    Verdict,
    check_contactor,
    check_diode,
    check_duty,
    check_meter,
)
from controller.selftest.duty import DutyMeter
from controller.selftest.rig import RigCar, measure_level, read_settled
from hw.base import CpState, Meter
from hw.direct_pilot import Contactor, CpSensor, PilotOutput
from hw.pilot import X1, PilotSignal

_log = logging.getLogger(__name__)
FEEDBACK_WAIT_S = 1.0
FEEDBACK_POLL_S = 0.002


@dataclass
class Unit:
    """The devices of the charger under test and what is attached to it."""

    output: PilotOutput
    sensor: CpSensor
    contactor: Contactor
    duty: DutyMeter
    car: RigCar | None = None
    meter: Meter | None = None
    nominal_v: float = 230.0
    phases: int = 3
    ocpp_check: Callable[[], Awaitable[StepResult]] | None = None
    rfid_check: Callable[[], Awaitable[StepResult]] | None = None
    log: list[str] = field(default_factory=list)


def make_safe(unit: Unit) -> list[str]:
    """Contactor open, pilot X1, rig switches open; every one tried. Returns what failed."""
    failures = []
    actions: list[tuple[str, Callable[[], None]]] = [
        ("contactor", lambda: unit.contactor.set_closed(False)),
        ("pilot", lambda: unit.output.apply(X1)),
    ]
    if unit.car is not None:
        actions.append(("rig", unit.car.open_all))
    for name, action in actions:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - the safe state must try every output
            _log.critical("could not make the %s safe: %s", name, exc)
            failures.append(f"{name}: {exc}")
    return failures


def _wait_feedback(contactor: Contactor, want: bool) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < FEEDBACK_WAIT_S:
        if contactor.feedback() is want:
            return time.monotonic() - start
        time.sleep(FEEDBACK_POLL_S)
    return None


def _levels(unit: Unit) -> list[StepResult]:
    if unit.car is None:
        return [StepResult("pilot levels", Verdict.SKIP, "-", "-", "no rig attached (--rig none)")]
    results = [
        measure_level(state, unit.car, unit.output, unit.sensor)
        for state in (CpState.A, CpState.B, CpState.C, CpState.D, CpState.E, CpState.F)
    ]
    if unit.car.can_make(CpState.B):
        unit.car.make(CpState.B)
        unit.output.apply(PilotSignal.pwm(16))
        results.append(check_diode(read_settled(unit.sensor).low_v))
    return results


def _duty(unit: Unit) -> list[StepResult]:
    results = []
    for current_a in DUTY_CURRENTS_A:
        signal = PilotSignal.pwm(current_a)
        unit.output.apply(signal)
        time.sleep(0.05)
        frequency_hz, duty = unit.duty.measure()
        results.append(
            check_duty(current_a, signal.duty_percent, duty, frequency_hz, unit.duty.source)
        )
    return results


def _contactor(unit: Unit) -> list[StepResult]:
    has_feedback = unit.contactor.has_feedback
    if not has_feedback:
        return [check_contactor(None, None, has_feedback=False)]
    unit.output.apply(X1)
    unit.contactor.set_closed(True)
    close_s = _wait_feedback(unit.contactor, True)
    unit.contactor.set_closed(False)
    open_s = _wait_feedback(unit.contactor, False)
    return [check_contactor(close_s, open_s, has_feedback=True)]


async def _meter(unit: Unit) -> list[StepResult]:
    if unit.meter is None:
        return [StepResult("meter", Verdict.SKIP, "-", "-", "no meter configured")]
    await unit.meter.start()
    try:
        sample = await asyncio.wait_for(unit.meter.read(), 5)
    finally:
        await unit.meter.close()
    return [check_meter(sample, unit.nominal_v, unit.phases)]


async def run_selftest(unit: Unit) -> list[StepResult]:
    results: list[StepResult] = []
    sync_steps: list[tuple[str, Callable[[Unit], list[StepResult]]]] = [
        ("pilot levels", _levels),
        ("duty", _duty),
        ("contactor", _contactor),
    ]
    try:
        for name, sync_step in sync_steps:
            results += await _guarded(name, unit, _in_thread(sync_step, unit))
        results += await _guarded("meter", unit, lambda: _meter(unit))
        if unit.rfid_check is None:
            results.append(
                StepResult("RFID test card", Verdict.SKIP, "-", "-", "no RFID reader configured")
            )
        else:
            read_card = unit.rfid_check
            results += await _guarded("RFID test card", unit, lambda: _one(read_card()))
        if unit.ocpp_check is None:
            results.append(StepResult("OCPP link", Verdict.SKIP, "-", "-", "--no-ocpp"))
        else:
            check = unit.ocpp_check
            results += await _guarded("OCPP link", unit, lambda: _one(check()))
    finally:
        failures = make_safe(unit)
        if failures:
            results.append(
                StepResult("safe state", Verdict.FAIL, "; ".join(failures), "outputs safe")
            )
    return results


def _in_thread(
    step: Callable[[Unit], list[StepResult]], unit: Unit
) -> Callable[[], Awaitable[list[StepResult]]]:
    """Blocking device I/O and sleeps run off the event loop."""
    return lambda: asyncio.to_thread(step, unit)


async def _one(result: Awaitable[StepResult]) -> list[StepResult]:
    return [await result]


async def _guarded(
    name: str, unit: Unit, step: Callable[[], Awaitable[list[StepResult]]]
) -> list[StepResult]:
    try:
        results = await step()
    except Exception as exc:  # noqa: BLE001 - a broken unit fails its step, the rest still run
        _log.warning("step %s failed: %s", name, exc)
        results = [StepResult(name, Verdict.FAIL, type(exc).__name__, "step completes", str(exc))]
    failures = make_safe(unit)
    if failures:
        results.append(StepResult(f"safe after {name}", Verdict.FAIL, "; ".join(failures), "-"))
    return results
