"""The simulator behind `driver = "sim"`: the direct-pilot path with a simulated car on the wire.

It is not a separate fake of the charger: the same `DirectPilotDriver` and pilot state machine
run, only the three devices at the edge (pilot generator, CP read-back, contactor) are wired to a
model of a car instead of pins. So every pause, forced opening and wake-up that the state machine
does on a Pi also happens in a demo or a test, and the CP levels go through the same classifier
as the ADC readings do.

The car itself is `hw.sim_ev.SimulatedEv`; this module wires it to the driver's devices and a
meter. The car is advanced whenever the driver reads or writes one of the devices (every
`poll()`), or explicitly with `SimulatedEv.step()`.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from hw.base import MeterSample
from hw.clock import Clock
from hw.direct_pilot import DirectPilotDriver
from hw.iec61851 import CpClassifier, CpReading
from hw.phase_switch import PhaseSwitchConfig
from hw.pilot import X1, PilotConfig, PilotSignal
from hw.probe import ProbeResult
from hw.sim_ev import SimulatedEv as SimulatedEv
from hw.sim_ev import SimulatorSettings as SimulatorSettings

log = logging.getLogger(__name__)


class SimPilotOutput:
    """The pilot generator, wired to the simulated car; keeps a history for tests."""

    def __init__(self, ev: SimulatedEv, clock: Clock) -> None:
        self._ev = ev
        self._clock = clock
        self.history: list[tuple[float, PilotSignal]] = []

    def apply(self, signal: PilotSignal) -> None:
        self._ev.set_pilot(signal)
        self.history.append((self._clock.monotonic(), signal))

    def close(self) -> None:
        self.apply(X1)


class SimCpSensor:
    """CP read-back: the circuit's levels through the same classifier as a real ADC."""

    def __init__(self, ev: SimulatedEv, classifier: CpClassifier | None = None) -> None:
        self._ev = ev
        self._classifier = classifier or CpClassifier()

    def read(self) -> CpReading:
        self._ev.step()
        high_v, low_v = self._ev.cp_levels()
        return self._classifier.reading(high_v, low_v)

    def close(self) -> None:
        return None


class SimContactor:
    """The contactor with an ideal auxiliary contact; `stuck_closed` simulates a welded one."""

    def __init__(self, ev: SimulatedEv, clock: Clock) -> None:
        self._ev = ev
        self._clock = clock
        self.stuck_closed = False
        self.history: list[tuple[float, bool]] = []

    @property
    def has_feedback(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        """What the relay was last told (the car sees `SimulatedEv.contactor_closed`)."""
        return self.history[-1][1] if self.history else False

    def set_closed(self, closed: bool) -> None:
        self.history.append((self._clock.monotonic(), closed))
        self._ev.set_contactor(closed or self.stuck_closed)

    def feedback(self) -> bool | None:
        return self._ev.contactor_closed

    def close(self) -> None:
        self.set_closed(False)


class SimPhaseSwitch:
    """The phase relay (`hw.base.PhaseSwitch`) wired to the simulated car, with feedback.

    `history` keeps every switching with what flowed at that instant, so a test can assert
    that the relay never moved under load.
    """

    def __init__(self, ev: SimulatedEv, clock: Clock) -> None:
        self._ev = ev
        self._clock = clock
        self.stuck: int | None = None
        """A relay welded at this many phases (its feedback tells)."""
        self.history: list[tuple[float, int, bool, float]] = []
        """(monotonic time, phases, contactor closed, current drawn) at each switching."""

    @property
    def has_feedback(self) -> bool:
        return True

    def set_phases(self, phases: int) -> None:
        ev = self._ev
        ev.step()
        self.history.append(
            (self._clock.monotonic(), phases, ev.contactor_closed, ev.drawn_current_a)
        )
        ev.set_phases_connected(self.stuck if self.stuck is not None else phases)

    def feedback(self) -> int | None:
        return self._ev._phases_connected

    def close(self) -> None:
        return None


class CarOnTheWire:
    """A CP sensor for benches and tests: the simulated car at the end of real devices.

    It reads the duty cycle from a real pilot output (the sysfs file, a PWM pin) and the
    contactor from a real relay pin, so the direct-pilot driver runs through its real device
    code while the car reacts as it would on the cable.
    """

    def __init__(
        self,
        ev: SimulatedEv,
        read_duty: Callable[[], float],
        read_contactor: Callable[[], bool],
        classifier: CpClassifier | None = None,
    ) -> None:
        """`read_duty()` returns the generator's high time in percent (X1 = 100, F = 0)."""
        self.ev = ev
        self._read_duty = read_duty
        self._read_contactor = read_contactor
        self._classifier = classifier or CpClassifier()

    def read(self) -> CpReading:
        duty = round(self._read_duty(), 4)
        if duty != self.ev.duty_percent:
            self.ev.set_duty(duty)
        closed = self._read_contactor()
        if closed != self.ev.contactor_closed:
            self.ev.set_contactor(closed)
        self.ev.step()
        return self._classifier.reading(*self.ev.cp_levels())

    def close(self) -> None:
        return None


class SimMeter:
    """`hw.base.Meter` measuring what the simulated car draws.

    With a `register_path` its energy register survives a restart, as a real meter's counter
    survives a power cut: the file holds the register, and the car's energy adds to it.
    """

    def __init__(self, ev: SimulatedEv, register_path: Path | None = None) -> None:
        self._ev = ev
        self._path = register_path
        self._base_wh = _load_register_wh(register_path)
        self._saved_wh = self._base_wh

    async def start(self) -> None:
        return None

    @property
    def energy_wh(self) -> float:
        return self._base_wh + self._ev.energy_wh

    def _save(self, energy_wh: float) -> None:
        if self._path is None or energy_wh - self._saved_wh < 0.1:
            return
        tmp = self._path.with_name(self._path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({"energy_wh": energy_wh}))
            os.replace(tmp, self._path)
        except OSError:
            return  # the register is only as durable as the disk; the reading is still good
        self._saved_wh = energy_wh

    async def read(self) -> MeterSample:
        ev = self._ev
        ev.step()
        settings = ev.settings
        current_a = ev.drawn_current_a
        voltage_v = settings.voltage_v
        if ev.phases_drawn == 3:
            currents = (current_a, current_a, current_a)
        else:
            currents = (current_a, 0.0, 0.0)
        energy_wh = self.energy_wh
        self._save(energy_wh)
        return MeterSample(
            energy_wh=energy_wh,
            power_w=ev.power_w,
            current_a=currents,
            voltage_v=(voltage_v, voltage_v, voltage_v),
        )

    async def close(self) -> None:
        return None


def _load_register_wh(path: Path | None) -> float:
    if path is None:
        return 0.0
    try:
        value = float(json.loads(path.read_text())["energy_wh"])
    except FileNotFoundError:
        return 0.0
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Like a meter replaced after a fault: it counts from 0 again. The bill is still safe,
        # the OCPP side never reports below the register it persisted itself.
        log.warning("simulated meter register %s unreadable (%s): starting at 0 Wh", path, exc)
        return 0.0
    if not math.isfinite(value) or value < 0:
        log.warning("simulated meter register %s holds %r: starting at 0 Wh", path, value)
        return 0.0
    return value


def build_sim_connector(
    settings: SimulatorSettings,
    clock: Clock,
    max_current_a: float,
    pilot_config: PilotConfig | None = None,
    meter_register_path: Path | None = None,
    phase_switch: PhaseSwitchConfig | None = None,
) -> tuple[DirectPilotDriver, SimMeter, SimulatedEv]:
    """A direct-pilot connector with a simulated car on the cable, and a meter for it."""
    ev = SimulatedEv(settings, clock)
    config = pilot_config or PilotConfig(max_current_a=max_current_a)
    if config.max_current_a != max_current_a:
        config = replace(config, max_current_a=max_current_a)
    driver = DirectPilotDriver(
        SimPilotOutput(ev, clock),
        SimCpSensor(ev, CpClassifier(config.bands)),
        SimContactor(ev, clock),
        clock,
        config,
        phases=settings.phases,
        phase_switch=None if phase_switch is None else SimPhaseSwitch(ev, clock),
        phase_switch_config=phase_switch,
    )
    return driver, SimMeter(ev, meter_register_path), ev


async def probe(settings: SimulatorSettings | None = None) -> list[ProbeResult]:
    """The simulator needs no hardware; report what it simulates."""
    settings = settings or SimulatorSettings()
    detail = (
        f"simulated car, {'plugged in' if settings.plugged_in else 'not plugged in'}, "
        f"max {settings.ev_max_current_a:g} A on {settings.phases} phase(s)"
    )
    return [ProbeResult("simulator", True, detail)]
