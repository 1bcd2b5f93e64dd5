"""The simulator behind `driver = "sim"`: the direct-pilot driver wired to a simulated car.

It is the direct-pilot path itself: the same `DirectPilotDriver` and pilot state machine, with a
simulated PWM output, pilot read-back and contactor connected to `SimulatedEv` instead of pins.
Everything the state machine does (pause, force-open, wake-up) therefore runs whenever the
simulator runs: in `chargectl demo`, in the tests and with `chargectl run` on a laptop.

The car follows IEC 61851-1: plugged in it shows B; offered >= 6 A it closes S2 (C) after its
response time; it draws min(offered, its maximum) once the contactor is closed and follows a
duty change after its response time; when the pilot goes to +12 V (X1) it stops and returns to
B within 3 s (unless told to ignore pauses); if configured, it falls asleep after a pause longer
than `ev_sleep_after_pause_s` and then wakes only from a wake-up sequence (F for >= 3 s).
Time comes from the injected clock, so tests run it on a FakeClock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hw.base import CpState, MeterSample
from hw.clock import Clock
from hw.direct_pilot import DirectPilotDriver
from hw.iec61851 import current_for_duty_cycle
from hw.pilot import F_DUTY, X1_DUTY, PilotConfig

# The car returns to B at the latest this long after the pilot stops offering (IEC: 3 s).
EV_MAX_STOP_S = 2.5
WAKE_F_MIN_S = 3.0


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    plugged_in: bool = True
    ev_max_current_a: float = 32.0
    ev_response_s: float = 1.0
    ev_sleep_after_pause_s: float = 0.0  # 0 = never sleeps
    ev_ignores_pause: bool = False
    phases: int = 3
    voltage_v: float = 230.0


class SimulatedEv:
    def __init__(self, settings: SimulatorSettings, clock: Clock) -> None:
        self.settings = settings
        self._clock = clock
        self.plugged_in = settings.plugged_in
        self.asleep = False
        self.s2_closed = False
        self.drawn_current_a = 0.0
        self.duty_percent = X1_DUTY
        self.contactor_closed = False
        self._duty_since = clock.monotonic()
        self._contactor_since = clock.monotonic()
        self._last_step = clock.monotonic()
        self.energy_wh = 0.0

    # --- the person ---------------------------------------------------------------------

    def plug_in(self) -> None:
        self.step()
        self.plugged_in = True
        self.asleep = False

    def unplug(self) -> None:
        self.step()
        self.plugged_in = False
        self.s2_closed = False
        self.drawn_current_a = 0.0

    # --- the wires ----------------------------------------------------------------------

    def pilot(self, duty_percent: float) -> None:
        self.step()
        if duty_percent != self.duty_percent:
            self.duty_percent = duty_percent
            self._duty_since = self._clock.monotonic()

    def contactor(self, closed: bool) -> None:
        self.step()
        if closed != self.contactor_closed:
            self._contactor_since = self._clock.monotonic()
        self.contactor_closed = closed
        if not closed:
            self.drawn_current_a = 0.0

    def cp_state(self) -> CpState:
        self.step()
        if self.duty_percent == F_DUTY:
            return CpState.F
        if not self.plugged_in:
            return CpState.A
        return CpState.C if self.s2_closed else CpState.B

    # --- the car ------------------------------------------------------------------------

    def _offered_a(self) -> float:
        if self.duty_percent in (X1_DUTY, F_DUTY):
            return 0.0
        try:
            return current_for_duty_cycle(self.duty_percent)
        except ValueError:
            return 0.0  # 5 % or another level that offers no current

    def step(self) -> None:
        """Advance the car to the clock's time."""
        now = self._clock.monotonic()
        dt = max(0.0, now - self._last_step)
        self._last_step = now
        s = self.settings
        # Energy drawn since the last step, at the current that was flowing.
        self.energy_wh += self.drawn_current_a * s.voltage_v * s.phases * dt / 3600.0
        if not self.plugged_in:
            return
        held = now - self._duty_since
        offered = self._offered_a()
        if self.duty_percent == F_DUTY and held >= WAKE_F_MIN_S:
            self.asleep = False
        if offered == 0.0:
            sleepy = s.ev_sleep_after_pause_s > 0 and self.duty_percent == X1_DUTY
            if sleepy and held >= s.ev_sleep_after_pause_s:
                self.asleep = True
            stops = not s.ev_ignores_pause and held >= min(s.ev_response_s, EV_MAX_STOP_S)
            if self.s2_closed and stops:
                # The car ramps down and opens S2 within its response time (at most 2.5 s).
                self.s2_closed = False
                self.drawn_current_a = 0.0
            return
        if self.asleep:
            return
        if not self.s2_closed and held >= s.ev_response_s:
            self.s2_closed = True
        if not (self.s2_closed and self.contactor_closed):
            self.drawn_current_a = 0.0
            return
        # The car follows a new offer (or the contactor closing) after its response time.
        if now - max(self._duty_since, self._contactor_since) >= s.ev_response_s:
            self.drawn_current_a = min(offered, s.ev_max_current_a)


class SimPilotOutput:
    def __init__(self, ev: SimulatedEv) -> None:
        self._ev = ev
        self.duty_history: list[tuple[float, float]] = []

    def set_duty(self, duty_percent: float) -> None:
        self.duty_history.append((self._ev._clock.monotonic(), duty_percent))
        self._ev.pilot(duty_percent)

    def close(self) -> None:
        self._ev.pilot(X1_DUTY)


class SimPilotSensor:
    def __init__(self, ev: SimulatedEv) -> None:
        self._ev = ev

    def read_state(self) -> CpState:
        return self._ev.cp_state()

    def close(self) -> None:
        pass


class SimContactor:
    def __init__(self, ev: SimulatedEv) -> None:
        self._ev = ev
        self.closed = False
        self.switch_count = 0

    def set_closed(self, closed: bool) -> None:
        if closed != self.closed:
            self.switch_count += 1
        self.closed = closed
        self._ev.contactor(closed)

    def feedback(self) -> bool | None:
        return None

    def close(self) -> None:
        self.set_closed(False)


class CarOnTheWire:
    """A pilot sensor for benches and tests: the simulated car at the end of real devices.

    It reads the duty from a real pilot output (the sysfs file, a PWM pin) and the contactor
    from a real relay pin, so the direct-pilot driver runs through its real device code.
    """

    def __init__(
        self,
        ev: SimulatedEv,
        read_duty: Callable[[], float],
        read_contactor: Callable[[], bool],
    ) -> None:
        self.ev = ev
        self._read_duty = read_duty
        self._read_contactor = read_contactor

    def read_state(self) -> CpState:
        self.ev.pilot(round(self._read_duty(), 4))
        self.ev.contactor(self._read_contactor())
        return self.ev.cp_state()

    def close(self) -> None:
        pass


class SimMeter:
    """An energy meter on the simulated car's supply (implements `hw.base.Meter`)."""

    def __init__(self, ev: SimulatedEv) -> None:
        self._ev = ev

    async def start(self) -> None:
        pass

    async def read(self) -> MeterSample:
        ev = self._ev
        ev.step()
        s = ev.settings
        i = ev.drawn_current_a
        per_phase = (i, i, i) if s.phases == 3 else (i, 0.0, 0.0)
        v = s.voltage_v
        return MeterSample(
            energy_wh=ev.energy_wh,
            power_w=i * v * s.phases,
            current_a=per_phase,
            voltage_v=(v, v, v) if s.phases == 3 else (v, 0.0, 0.0),
        )

    async def close(self) -> None:
        pass


def build_sim_connector(
    settings: SimulatorSettings,
    clock: Clock,
    max_current_a: float,
    pilot_config: PilotConfig | None = None,
) -> tuple[DirectPilotDriver, SimMeter, SimulatedEv]:
    ev = SimulatedEv(settings, clock)
    cfg = pilot_config or PilotConfig()
    if cfg.max_current_a != max_current_a:
        from dataclasses import replace

        cfg = replace(cfg, max_current_a=max_current_a)
    driver = DirectPilotDriver(
        SimPilotOutput(ev), SimPilotSensor(ev), SimContactor(ev), clock, cfg, phases=settings.phases
    )
    return driver, SimMeter(ev), ev
