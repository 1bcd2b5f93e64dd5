"""The car side of the EV-emulator rig: its switches on Pi GPIOs, and the wiring probe.

The probe runs before anything trusts the rig: with the pilot at X1 it closes each switch in
turn and checks that the charger's own CP read-back sees the state that switch must make. A
swapped or missing wire shows up as the wrong state on a named GPIO, and the caller refuses to
go on: a test that drives the wrong pin proves nothing and may leave a car-side switch closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from controller.selftest.checks import STATE_SWITCHES, StepResult, Verdict, check_level
from hw.base import CpState
from hw.direct_pilot import CpSensor, PilotOutput
from hw.errors import DriverUnavailable
from hw.ev_rig_circuit import DEFAULT_SWITCH_GPIOS, RigSwitch
from hw.pilot import STATE_F, X1

SETTLE_S = 0.06  # relay/MOSFET switching plus one peak-detector reset period


def parse_gpios(text: str) -> dict[RigSwitch, int]:
    """`plug=5,request=6,...`; 'default' gives docs/hil.md's pins. Raises ValueError."""
    if text.strip() == "default":
        return dict(DEFAULT_SWITCH_GPIOS)
    gpios: dict[RigSwitch, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, number = part.partition("=")
        try:
            switch = RigSwitch(name.strip())
        except ValueError:
            names = ", ".join(s.value for s in RigSwitch)
            raise ValueError(f"unknown rig switch {name!r}; use {names}") from None
        if not number.strip().isdigit() or not 0 <= int(number) <= 27:
            raise ValueError(f"rig switch {name}: {number!r} is not a GPIO number 0-27")
        gpios[switch] = int(number)
    if len(set(gpios.values())) != len(gpios):
        raise ValueError("two rig switches on the same GPIO")
    return gpios


@dataclass
class RigCar:
    """The rig's switches, each a gpiozero output (a MOSFET gate or a relay driver)."""

    gpios: Mapping[RigSwitch, int]
    pin_factory: Any = None

    def __post_init__(self) -> None:
        from gpiozero import DigitalOutputDevice, GPIOZeroError

        self._outs: dict[RigSwitch, Any] = {}
        try:
            for switch, gpio in self.gpios.items():
                self._outs[switch] = DigitalOutputDevice(
                    gpio, initial_value=False, pin_factory=self.pin_factory
                )
        except (GPIOZeroError, OSError) as exc:
            self.close()
            raise DriverUnavailable(f"rig switch GPIO: {exc}") from None

    def describe(self) -> str:
        return ", ".join(f"{s.value}=GPIO{g}" for s, g in self.gpios.items())

    def can_make(self, state: CpState) -> bool:
        return STATE_SWITCHES[state] <= set(self._outs)

    def set(self, closed: frozenset[RigSwitch]) -> None:
        """Open what must open first, so the car never passes through a wrong state (D)."""
        for switch, out in self._outs.items():
            if switch not in closed:
                out.off()
        for switch, out in self._outs.items():
            if switch in closed:
                out.on()

    def make(self, state: CpState) -> None:
        self.set(STATE_SWITCHES[state])

    def open_all(self) -> None:
        self.set(frozenset())

    def close(self) -> None:
        for out in self._outs.values():
            try:
                out.off()
            finally:
                out.close()
        self._outs = {}


def read_settled(sensor: CpSensor, sleep: Callable[[float], None] = time.sleep) -> Any:
    """A reading taken after the switches settled; the first read empties the peak detectors."""
    sleep(SETTLE_S)
    sensor.read()
    sleep(SETTLE_S)
    return sensor.read()


def measure_level(
    state: CpState,
    car: RigCar,
    output: PilotOutput,
    sensor: CpSensor,
    sleep: Callable[[float], None] = time.sleep,
) -> StepResult:
    if not car.can_make(state):
        return StepResult(
            f"pilot level {state}", Verdict.SKIP, "-", "-", "no rig switch for this state"
        )
    output.apply(STATE_F if state is CpState.F else X1)
    car.make(state)
    reading = read_settled(sensor, sleep)
    closed = STATE_SWITCHES[state]
    switches = " + ".join(f"{s.value} (GPIO{car.gpios[s]})" for s in closed) or "all open"
    if state is CpState.F:
        switches += ", generator at -12 V"
    return check_level(state, reading.state, reading.high_v, switches)


def probe_wiring(
    car: RigCar,
    output: PilotOutput,
    sensor: CpSensor,
    states: tuple[CpState, ...] = (CpState.A, CpState.B, CpState.C, CpState.B),
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Problems found, each naming the pin; empty when the rig is wired as expected. Leaves the
    switches open and the pilot at X1."""
    problems = []
    try:
        for state in states:
            result = measure_level(state, car, output, sensor, sleep)
            if result.verdict is Verdict.FAIL:
                problems.append(
                    f"{result.detail or 'rig'}: expected {result.expected}, read {result.measured}"
                )
    finally:
        car.open_all()
        output.apply(X1)
    problems = list(dict.fromkeys(problems))
    if problems:
        problems.append(f"the software expects {car.describe()} (docs/hil.md, 'Pins')")
    return problems
