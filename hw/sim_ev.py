"""The simulated car of `driver = "sim"`, on the injected clock.

It follows IEC 61851-1: B when plugged in, C once offered >= 6 A (after its response time), a
new duty cycle adopted after the response time, back to B within 3 s of X1, current drawn only
through a closed contactor. Optionally it falls asleep during a long pause and then wakes only
from state F held for at least 3 s, as several real cars do.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields

from hw.base import CpState
from hw.clock import Clock
from hw.iec61851 import ev_current_for_duty_cycle
from hw.pilot import PilotMode, PilotSignal

log = logging.getLogger(__name__)

# The CP circuit of IEC 61851-1 Annex A: a +-12 V generator behind 1 kOhm, and in the car a diode,
# R2 = 2.74 kOhm always and R3 = 1.3 kOhm switched in (S2) to request energy.
_GENERATOR_V = 12.0
_SOURCE_OHM = 1000.0
_DIODE_V = 0.7
_R2_OHM = 2740.0
_R3_OHM = 1300.0
_WAKE_F_MIN_S = 3.0
_STOP_WITHIN_S = 3.0


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """How the simulated car behaves."""

    plugged_in: bool = True
    ev_max_current_a: float = 32.0
    ev_response_s: float = 1.0
    """Delay before the car reacts to an offer or a duty change (capped at 3 s for X1)."""
    ev_sleep_after_pause_s: float = 0.0
    """A pause (X1) longer than this puts the car to sleep; 0 = never sleeps."""
    phases: int = 3
    voltage_v: float = 230.0
    ev_ignores_pause: bool = False
    """True: the car keeps drawing after X1 (to exercise the 6 s forced opening)."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            numeric = isinstance(value, float | int) and not isinstance(value, bool)
            if numeric and (not math.isfinite(value) or value < 0):
                raise ValueError(f"sim.{field.name} must be >= 0, got {value!r}")
        if self.phases not in (1, 3):
            raise ValueError(f"sim.phases must be 1 or 3, got {self.phases!r}")
        if self.voltage_v <= 0:
            raise ValueError("sim.voltage_v must be > 0")


class SimulatedEv:
    """A car on the end of the cable, reacting to the pilot and the contactor over time."""

    def __init__(self, settings: SimulatorSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        now = clock.monotonic()
        self._last_t = now
        self._plugged = settings.plugged_in
        self._asleep = False
        self._requesting = False
        self._mode = PilotMode.X1
        self._duty_percent = 100.0
        self._mode_since = now
        self._offer_a: float | None = None
        self._offer_since = now
        self._accepted_a = 0.0
        self._contactor = False
        self._drawn_a = 0.0
        self._energy_wh = 0.0
        self._phases_connected = settings.phases
        self.refuses_phases: set[int] = set()
        """Phase counts this car will not charge on (it stays in B), as some cars after a
        switch; for tests."""

    # --------------------------------------------------------------- the car

    @property
    def settings(self) -> SimulatorSettings:
        return self._settings

    @property
    def plugged_in(self) -> bool:
        return self._plugged

    @property
    def asleep(self) -> bool:
        return self._asleep

    @property
    def requesting(self) -> bool:
        """S2 closed: the car shows state C."""
        return self._requesting

    @property
    def cp_state(self) -> CpState:
        """The state the car presents (A, B or C), ignoring what the generator does."""
        if not self._plugged:
            return CpState.A
        return CpState.C if self._requesting else CpState.B

    @property
    def offered_a(self) -> float:
        """The current the car reads from the pilot right now (0 when none is offered)."""
        return self._offer_a or 0.0

    @property
    def drawn_current_a(self) -> float:
        return self._drawn_a

    @property
    def phases_drawn(self) -> int:
        """The phases the car draws on: its own, or fewer when the phase relay cut some."""
        return min(self._settings.phases, self._phases_connected)

    @property
    def power_w(self) -> float:
        return self._drawn_a * self._settings.voltage_v * self.phases_drawn

    def set_phases_connected(self, phases: int) -> None:
        self.step()
        self._phases_connected = phases
        self.step()

    @property
    def energy_wh(self) -> float:
        return self._energy_wh

    @property
    def contactor_closed(self) -> bool:
        return self._contactor

    @property
    def pilot_mode(self) -> PilotMode:
        """X1, F, or PWM (whatever the duty) as the car sees the line."""
        return self._mode

    @property
    def duty_percent(self) -> float:
        return self._duty_percent

    def plug_in(self) -> None:
        self.step()
        if not self._plugged:
            self._plugged = True
            self._asleep = False
            self._requesting = False
            self._mode_since = self._clock.monotonic()
            self.step()

    def unplug(self) -> None:
        self.step()
        self._plugged = False
        self._asleep = False
        self._requesting = False
        self.step()

    def fall_asleep(self) -> None:
        """Put the car to sleep now (it still shows B)."""
        self.step()
        self._asleep = True
        self.step()

    def step(self) -> None:
        """Advance the car to the clock's present: integrate energy, then react."""
        now = self._clock.monotonic()
        dt_s = max(0.0, now - self._last_t)
        self._energy_wh += self.power_w * dt_s / 3600.0
        self._last_t = now
        self._react(now)

    # ------------------------------------------------- wired by the sim devices

    def set_pilot(self, signal: PilotSignal) -> None:
        self.set_duty(signal.duty_percent)

    def set_duty(self, duty_percent: float) -> None:
        """The generator's duty cycle as the car sees it: 100 % is X1, 0 % is F, anything else
        a PWM that offers what IEC 61851-1 Table A.8 says (or nothing, e.g. at 5 %)."""
        self.step()
        now = self._clock.monotonic()
        if duty_percent >= 100.0:
            mode = PilotMode.X1
        elif duty_percent <= 0.0:
            mode = PilotMode.F
        else:
            mode = PilotMode.PWM
        if mode is not self._mode:
            self._mode_since = now
        self._mode = mode
        self._duty_percent = duty_percent
        offer = ev_current_for_duty_cycle(duty_percent) if mode is PilotMode.PWM else None
        if offer != self._offer_a:
            self._offer_a = offer
            self._offer_since = now
        self.step()

    def set_contactor(self, closed: bool) -> None:
        self.step()
        self._contactor = closed
        self.step()

    def cp_levels(self) -> tuple[float, float]:
        """High and low level of the CP waveform in volts, as the EVSE would measure them."""
        if self._mode is PilotMode.F:
            return -_GENERATOR_V, -_GENERATOR_V
        if not self._plugged:
            high_v = _GENERATOR_V
        else:
            load_ohm = _R2_OHM
            if self._requesting:
                load_ohm = _R2_OHM * _R3_OHM / (_R2_OHM + _R3_OHM)
            high_v = _DIODE_V + (_GENERATOR_V - _DIODE_V) * load_ohm / (load_ohm + _SOURCE_OHM)
        low_v = -_GENERATOR_V if self._mode is PilotMode.PWM else high_v
        return high_v, low_v

    # ------------------------------------------------------------- behaviour

    def _react(self, now: float) -> None:
        settings = self._settings
        in_mode_s = now - self._mode_since
        if not self._plugged:
            self._requesting = False
        elif self._mode is PilotMode.F:
            self._requesting = False
            if in_mode_s >= _WAKE_F_MIN_S:
                self._asleep = False
        elif self._mode is PilotMode.X1 or self._offer_a is None:
            stop_after_s = min(settings.ev_response_s, _STOP_WITHIN_S)
            if self._requesting and not settings.ev_ignores_pause and in_mode_s >= stop_after_s:
                self._requesting = False
            sleep_s = settings.ev_sleep_after_pause_s
            if sleep_s > 0 and not self._requesting and in_mode_s > sleep_s:
                self._asleep = True
        elif not self._asleep:
            if now - self._offer_since >= settings.ev_response_s:
                self._accepted_a = self._offer_a
            refuses = self.phases_drawn in self.refuses_phases
            if not self._requesting and not refuses and in_mode_s >= settings.ev_response_s:
                self._requesting = True
                self._accepted_a = self._offer_a
        if self._requesting and self._contactor and self._plugged:
            self._drawn_a = min(self._accepted_a, settings.ev_max_current_a)
        else:
            self._drawn_a = 0.0
