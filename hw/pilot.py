"""The control-pilot state machine for hardware where we drive the pilot ourselves.

Pure logic on an injected clock: each `step()` takes what was measured (CP state and levels,
contactor feedback) and the wanted limit, and returns what the pilot and the contactor must do
now. The rules are the ones in the team reference (IEC 61851-1 Annex A as applied by EVerest,
WARP and SmartEVSE):

* pausing is immediate: +12 V DC (X1), never 5 %; the contactor opens as soon as the car leaves
  C, and after `force_open_after_s` even if it does not;
* only resuming waits: a minimum pause, a rate limit on duty changes, and after
  `max_interruptions_per_session` pauses a much longer minimum pause (`capped_min_pause_s`);
* a car that does not draw 30 s after an offer gets one wake-up (F, then X1, then PWM again) and is
  reported as suspended by the EV if it still does not draw;
* the contactor closes only while the PWM is on and the car shows C (D only when ventilation is
  supported); everything unexpected (D, E, an F we did not generate, a failed diode check, a
  contactor that does not follow) is a fault: contactor open, F for a moment, then X1.

Callers must step often: the 100 ms limit for opening the contactor after C -> B is met only if
`step()` runs at least every `PilotConfig.poll_interval_s` while the contactor is closed or a
transition is pending; `idle_poll_interval_s` is enough otherwise (see `hw.direct_pilot`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields
from enum import StrEnum

from hw.base import CpState, Fault, FaultKind
from hw.base import PilotMode as PilotMode  # defined with the other contracts; kept importable
from hw.base import PilotSignal as PilotSignal
from hw.clock import Clock
from hw.iec61851 import (
    DEFAULT_BANDS,
    MAX_CURRENT_A,
    MIN_CURRENT_A,
    CpBands,
    CpReading,
    diode_check_failed,
)

_log = logging.getLogger(__name__)


X1 = PilotSignal.x1()
STATE_F = PilotSignal.f()


@dataclass(frozen=True, slots=True)
class PilotConfig:
    """Every constant of the state machine; defaults from the team reference (section 6.2)."""

    min_current_a: float = 6.0
    """Smallest offer; a limit below it pauses. Some cars need 8-10 A to start."""
    max_current_a: float = 32.0
    """Largest offer: the connector's rating."""
    current_step_a: float = 0.1
    """Offers are rounded down to this step so they never exceed the limit."""
    resume_hysteresis_a: float = 0.0
    """A paused session resumes only at min_current_a + this."""
    min_pause_s: float = 10.0
    """Shortest pause before the PWM may come back."""
    pwm_min_update_interval_s: float = 5.0
    """Shortest time between two duty cycles that both offer current, for a raise."""
    decrease_min_interval_s: float = 5.0
    """Shortest time before a lower duty cycle. With a main-fuse guard it is 1 s: a lower offer
    then protects the fuse and must not wait out the 5 s a car has to follow a change."""
    c_enter_debounce_s: float = 0.5
    """C must be seen this long (with PWM on) before the contactor closes."""
    force_open_after_s: float = 6.0
    """After X1, open the contactor this long later even if the car still shows C."""
    wake_up_enabled: bool = True
    wake_after_s: float = 30.0
    """Offering for this long without C triggers the one wake-up of this offer."""
    wake_f_s: float = 4.0
    wake_x1_s: float = 0.75
    wake_give_up_s: float = 10.0
    """After the wake-up, report suspended-by-EV if C has not come within this time."""
    max_interruptions_per_session: int = 8
    """Pauses per session after which resuming waits `capped_min_pause_s` instead (0: no cap)."""
    capped_min_pause_s: float = 300.0
    """The minimum pause once the cap is reached, so a flapping limit cannot wear the car out."""
    ventilation_supported: bool = False
    """False: state D is a fault. True: D is treated like C."""
    fault_f_s: float = 0.3
    """State F shown after a fault, before X1."""
    error_retry_s: float = 30.0
    """A fault clears after its cause has been gone this long (or at once on unplug)."""
    contactor_feedback_timeout_s: float = 0.5
    """Feedback that disagrees with the command for this long is a contactor fault."""
    output_settle_s: float = 0.1
    """After the pilot output changes, readings that only reflect the old output are ignored."""
    startup_hold_s: float = 3.0
    """X1 with the contactor open after start before anything is offered."""
    poll_interval_s: float = 0.05
    """Poll interval while the contactor is closed or a transition is pending (C -> B rule)."""
    idle_poll_interval_s: float = 0.5
    """Poll interval while nothing is pending: no car, paused, or offering without C."""
    bands: CpBands = DEFAULT_BANDS

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            numeric = isinstance(value, float | int) and not isinstance(value, bool)
            if numeric and (not math.isfinite(value) or value < 0):
                raise ValueError(f"pilot.{field.name} must be >= 0, got {value!r}")
        if not MIN_CURRENT_A <= self.min_current_a <= MAX_CURRENT_A:
            raise ValueError(
                f"pilot.min_current_a must be within {MIN_CURRENT_A:g}-{MAX_CURRENT_A:g} A, "
                f"got {self.min_current_a:g}"
            )
        if not self.min_current_a <= self.max_current_a <= MAX_CURRENT_A:
            raise ValueError(
                f"pilot.max_current_a must be within {self.min_current_a:g}-{MAX_CURRENT_A:g} A, "
                f"got {self.max_current_a:g}"
            )
        if self.current_step_a <= 0:
            raise ValueError("pilot.current_step_a must be > 0")
        if self.poll_interval_s <= 0:
            raise ValueError("pilot.poll_interval_s must be > 0")
        if self.idle_poll_interval_s < self.poll_interval_s:
            raise ValueError("pilot.idle_poll_interval_s must be >= pilot.poll_interval_s")
        if not isinstance(self.max_interruptions_per_session, int):
            raise ValueError("pilot.max_interruptions_per_session must be an integer")


class PilotPhase(StrEnum):
    """Where the state machine is; for logs and status displays."""

    STARTUP = "startup"  # holding X1 after start
    IDLE = "idle"  # no car
    PAUSED = "paused"  # car present, X1, contactor open
    STOPPING = "stopping"  # X1 sent, contactor still closed until the car leaves C
    OFFERING = "offering"  # PWM on, waiting for C
    CHARGING = "charging"  # PWM on, C, contactor closed
    WAKE_F = "wake_f"  # wake-up: state F
    WAKE_X1 = "wake_x1"  # wake-up: X1 before the PWM comes back
    FAULT = "fault"  # contactor open, F then X1, until the cause has gone


@dataclass(frozen=True, slots=True)
class PilotStatus:
    """The outputs to apply now and what the state machine knows.

    `vehicle_state` is the last CP state that reflects the car: while we generate F ourselves the
    line reads -12 V whatever the car does, so the state seen before is kept.
    """

    phase: PilotPhase
    signal: PilotSignal
    contactor_closed: bool
    vehicle_state: CpState
    suspended_by_ev: bool = False
    fault: str | None = None
    fault_kind: FaultKind | None = None
    interruptions: int = 0
    resume_blocked: str | None = None
    ignored_pause: bool = False
    """The car kept drawing after a pause until the contactor was forced open (this session)."""

    @property
    def offered_a(self) -> float:
        return self.signal.current_a


_EPSILON_S = 1e-6  # timers are compared with this slack: float sums of ticks drift


def _elapsed(since: float, now: float, duration_s: float) -> bool:
    return now - since >= duration_s - _EPSILON_S


_CP_FAULT_TEXT = {
    CpState.D: "car shows state D (ventilation required), which this charger does not support",
    CpState.E: "CP shorted to PE or no pilot supply (state E)",
    CpState.F: "CP reads -12 V although the pilot is not in F: check the pilot driver stage",
}


class PilotStateMachine:
    """One connector's pilot and contactor logic. Not thread-safe; call from one task."""

    def __init__(self, config: PilotConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._limit_a = 0.0
        self._signal = X1
        self._contactor = False
        self._vehicle = CpState.A
        self._suspended_by_ev = False
        self._interruptions = 0
        now = clock.monotonic()
        self._phase = PilotPhase.STARTUP
        self._phase_since = now
        self._signal_since = now
        self._pause_started_at: float | None = None
        self._last_duty_write: float | None = None
        self._offer_since: float | None = None
        self._wake_done = False
        self._wake_ended_at: float | None = None
        self._c_since: float | None = None
        self._fault: Fault | None = None
        self._fault_cause_gone_at: float | None = None
        self._fault_shown_f_until: float | None = None
        self._feedback_mismatch_since: float | None = None
        self._cap_warned = False
        self._ignored_pause = False
        self.restart()

    # ----------------------------------------------------------------- inputs

    @property
    def config(self) -> PilotConfig:
        return self._config

    @property
    def limit_a(self) -> float:
        return self._limit_a

    def set_limit(self, limit_a: float) -> None:
        """Record the wanted limit; the next `step()` acts on it (a pause at once)."""
        if not math.isfinite(limit_a) or limit_a < 0:
            raise ValueError(f"a limit must be a finite number of amps >= 0, got {limit_a!r}")
        self._limit_a = float(limit_a)

    def restart(self) -> None:
        """Start over from the safe state (X1, contactor open), as after a process start.

        Keeps the limit; a session that was offering counts as paused so the minimum pause
        applies before anything is offered again.
        """
        now = self._clock.monotonic()
        if self._signal.mode is not PilotMode.X1 or self._contactor:
            self._pause_started_at = now
        self._set_signal(X1, now)
        self._contactor = False
        self._fault = None
        self._fault_cause_gone_at = None
        self._fault_shown_f_until = None
        self._enter(PilotPhase.STARTUP, now)

    def fail(self, reason: str, kind: FaultKind = FaultKind.IO) -> PilotStatus:
        """Latch a fault that the caller detected (a read error, for example) and return the
        safe outputs without waiting for the next step."""
        now = self._clock.monotonic()
        self._raise_fault(Fault(kind, reason), now, show_f=False)
        self._fault_cause_gone_at = now
        return self._status()

    def status(self) -> PilotStatus:
        return self._status()

    # ------------------------------------------------------------------- step

    def step(
        self, reading: CpReading | CpState, contactor_feedback: bool | None = None
    ) -> PilotStatus:
        """Advance the timers with one measurement and return the outputs to apply now."""
        now = self._clock.monotonic()
        if isinstance(reading, CpState):
            reading = CpReading(reading)
        seen = self._vehicle_view(reading, now)
        causes = self._fault_causes(reading, seen, contactor_feedback, now)
        if seen is not None:
            self._vehicle = seen

        if self._phase is PilotPhase.STARTUP:
            if causes:
                self._raise_fault(causes[0], now, show_f=True)
                return self._status()
            if not _elapsed(self._phase_since, now, self._config.startup_hold_s):
                return self._status()
            self._enter(PilotPhase.IDLE, now)

        if self._vehicle is CpState.A and self._phase is not PilotPhase.FAULT:
            self._unplugged(now)
        elif self._vehicle is CpState.A and not causes:
            # Unplugging clears every fault that the car could have caused.
            self._fault = None
            self._unplugged(now)

        if causes and self._phase is not PilotPhase.FAULT:
            self._raise_fault(causes[0], now, show_f=True)
        if self._phase is PilotPhase.FAULT:
            self._step_fault(causes, now)
            return self._status()

        if self._phase is PilotPhase.IDLE:
            if self._vehicle in (CpState.B, CpState.C, CpState.D):
                self._start_session(now)
            else:
                return self._status()

        self._step_session(now)
        return self._status()

    # -------------------------------------------------------------- internals

    def _enter(self, phase: PilotPhase, now: float) -> None:
        if phase is not self._phase:
            _log.debug("pilot %s -> %s", self._phase, phase)
        self._phase = phase
        self._phase_since = now

    def _set_signal(self, signal: PilotSignal, now: float) -> None:
        if signal != self._signal:
            self._signal = signal
            self._signal_since = now
            if signal.mode is PilotMode.PWM:
                self._last_duty_write = now

    def _vehicle_view(self, reading: CpReading, now: float) -> CpState | None:
        """The reading as evidence about the car, or None when it only shows our own output."""
        if self._signal.mode is PilotMode.F:
            return None
        settling = not _elapsed(self._signal_since, now, self._config.output_settle_s)
        if settling and reading.state is CpState.F:
            return None
        return reading.state

    def _fault_causes(
        self, reading: CpReading, seen: CpState | None, feedback: bool | None, now: float
    ) -> list[Fault]:
        causes: list[Fault] = []
        if seen is not None:
            if seen is CpState.D and not self._config.ventilation_supported:
                causes.append(Fault(FaultKind.PILOT, _CP_FAULT_TEXT[CpState.D]))
            elif seen in (CpState.E, CpState.F):
                causes.append(Fault(FaultKind.PILOT, _CP_FAULT_TEXT[seen]))
            elif (
                self._signal.mode is PilotMode.PWM
                and _elapsed(self._signal_since, now, self._config.output_settle_s)
                and seen in (CpState.B, CpState.C, CpState.D)
                and diode_check_failed(reading.low_v, self._config.bands)
            ):
                causes.append(
                    Fault(
                        FaultKind.PILOT,
                        f"diode check failed: CP low level {reading.low_v:.1f} V during PWM "
                        "(car diode missing or shorted)",
                    )
                )
        if feedback is None or feedback == self._contactor:
            self._feedback_mismatch_since = None
        else:
            if self._feedback_mismatch_since is None:
                self._feedback_mismatch_since = now
            if _elapsed(
                self._feedback_mismatch_since, now, self._config.contactor_feedback_timeout_s
            ):
                causes.append(
                    Fault(
                        FaultKind.CONTACTOR,
                        "contactor welded or stuck closed"
                        if feedback
                        else "contactor did not close (no feedback)",
                    )
                )
        return causes

    def _raise_fault(self, cause: Fault, now: float, *, show_f: bool) -> None:
        if self._phase is not PilotPhase.FAULT:
            _log.warning("pilot fault: %s", cause)
            if self._signal.mode is PilotMode.PWM or self._contactor:
                self._pause_started_at = now
        self._fault = cause
        self._fault_cause_gone_at = None
        self._contactor = False
        self._offer_since = None
        self._c_since = None
        if show_f and self._config.fault_f_s > 0:
            self._set_signal(STATE_F, now)
            self._fault_shown_f_until = now + self._config.fault_f_s
        else:
            self._set_signal(X1, now)
            self._fault_shown_f_until = None
        self._enter(PilotPhase.FAULT, now)

    def _step_fault(self, causes: list[Fault], now: float) -> None:
        self._contactor = False
        if self._fault_shown_f_until is not None and now >= self._fault_shown_f_until - _EPSILON_S:
            self._set_signal(X1, now)
            self._fault_shown_f_until = None
        if causes:
            self._fault = causes[0]
            self._fault_cause_gone_at = None
            return
        if self._fault_shown_f_until is not None:
            return
        if self._fault_cause_gone_at is None:
            self._fault_cause_gone_at = now
        if _elapsed(self._fault_cause_gone_at, now, self._config.error_retry_s):
            _log.info("pilot fault cleared: %s", self._fault)
            self._fault = None
            self._fault_cause_gone_at = None
            if self._vehicle is CpState.A:
                self._unplugged(now)
            else:
                self._enter(PilotPhase.PAUSED, now)

    def _unplugged(self, now: float) -> None:
        if self._phase not in (PilotPhase.IDLE, PilotPhase.STARTUP):
            _log.info("car unplugged; session reset")
        self._contactor = False
        self._set_signal(X1, now)
        self._interruptions = 0
        self._suspended_by_ev = False
        self._pause_started_at = None
        self._offer_since = None
        self._wake_done = False
        self._wake_ended_at = None
        self._c_since = None
        self._cap_warned = False
        self._ignored_pause = False
        self._enter(PilotPhase.IDLE, now)

    def _start_session(self, now: float) -> None:
        _log.info("car plugged in (state %s)", self._vehicle)
        self._interruptions = 0
        self._suspended_by_ev = False
        self._enter(PilotPhase.PAUSED, now)

    def _wanted_a(self) -> float:
        """The current to offer for the wanted limit: 0 means pause."""
        step = self._config.current_step_a
        capped = min(self._limit_a, self._config.max_current_a)
        offer = math.floor(capped / step + 1e-9) * step
        offer = round(offer, 6)
        return offer if offer >= self._config.min_current_a else 0.0

    def _resume_blocked(self, now: float, wanted_a: float) -> str | None:
        cfg = self._config
        if wanted_a < cfg.min_current_a + cfg.resume_hysteresis_a:
            return f"limit below {cfg.min_current_a + cfg.resume_hysteresis_a:g} A"
        if self._pause_started_at is not None:
            capped = self._capped()
            min_pause_s = cfg.capped_min_pause_s if capped else cfg.min_pause_s
            left = min_pause_s - (now - self._pause_started_at)
            if left > _EPSILON_S:
                why = (
                    f"paused {self._interruptions} times this session "
                    f"(cap {cfg.max_interruptions_per_session})"
                    if capped
                    else "minimum pause"
                )
                return f"{why}, {left:.1f} s left"
        return None

    def _capped(self) -> bool:
        cap = self._config.max_interruptions_per_session
        return bool(cap) and self._interruptions >= cap

    def _charge_state(self) -> bool:
        if self._vehicle is CpState.C:
            return True
        return self._vehicle is CpState.D and self._config.ventilation_supported

    def _pause(self, now: float) -> None:
        """Withdraw the offer at once; the contactor follows when the car has stopped."""
        self._set_signal(X1, now)
        self._interruptions += 1
        self._pause_started_at = now
        self._offer_since = None
        self._c_since = None
        self._suspended_by_ev = False
        _log.info("pilot paused (X1), interruption %d of this session", self._interruptions)
        self._enter(PilotPhase.STOPPING if self._contactor else PilotPhase.PAUSED, now)

    def _offer(self, wanted_a: float, now: float) -> None:
        self._set_signal(PilotSignal.pwm(wanted_a), now)
        self._offer_since = now
        self._wake_done = False
        self._wake_ended_at = None
        self._c_since = None
        self._suspended_by_ev = False
        self._enter(PilotPhase.OFFERING, now)

    def _update_duty(self, wanted_a: float, now: float) -> None:
        if wanted_a == self._signal.current_a:
            return
        last = self._last_duty_write
        spacing_s = self._config.pwm_min_update_interval_s
        if wanted_a < self._signal.current_a:
            spacing_s = min(spacing_s, self._config.decrease_min_interval_s)
        if last is not None and not _elapsed(last, now, spacing_s):
            return  # coalesced: the latest limit is applied when the interval is over
        self._set_signal(PilotSignal.pwm(wanted_a), now)

    def _step_session(self, now: float) -> None:
        cfg = self._config
        wanted_a = self._wanted_a()
        phase = self._phase

        offering = (PilotPhase.OFFERING, PilotPhase.CHARGING, PilotPhase.WAKE_F, PilotPhase.WAKE_X1)
        if phase in offering and wanted_a == 0.0:
            self._pause(now)
            phase = self._phase

        if phase is PilotPhase.STOPPING:
            if not self._charge_state():
                self._contactor = False
                self._enter(PilotPhase.PAUSED, now)
            elif _elapsed(self._phase_since, now, cfg.force_open_after_s):
                _log.warning(
                    "car ignored the pause for %.1f s; contactor opened under load",
                    now - self._phase_since,
                )
                self._ignored_pause = True
                self._contactor = False
                self._enter(PilotPhase.PAUSED, now)
            phase = self._phase

        if phase is PilotPhase.PAUSED:
            blocked = self._resume_blocked(now, wanted_a)
            if blocked is None:
                self._offer(wanted_a, now)
            elif self._capped() and not self._cap_warned:
                _log.warning("pilot resumes slower: %s", blocked)
                self._cap_warned = True
            return

        if phase is PilotPhase.WAKE_F:
            if _elapsed(self._phase_since, now, cfg.wake_f_s):
                self._set_signal(X1, now)
                self._enter(PilotPhase.WAKE_X1, now)
            return

        if phase is PilotPhase.WAKE_X1:
            if _elapsed(self._phase_since, now, cfg.wake_x1_s):
                self._set_signal(PilotSignal.pwm(wanted_a), now)
                self._wake_ended_at = now
                self._c_since = None
                self._enter(PilotPhase.OFFERING, now)
            return

        if phase is PilotPhase.CHARGING:
            if not self._charge_state():
                # The car stopped by itself: open within the 100 ms the standard allows, keep
                # offering. No wake-up: the car decided.
                _log.info("car left C while charging; contactor opened, offer kept")
                self._contactor = False
                self._wake_done = True
                self._c_since = None
                self._enter(PilotPhase.OFFERING, now)
            else:
                self._update_duty(wanted_a, now)
            return

        if phase is PilotPhase.OFFERING:
            self._update_duty(wanted_a, now)
            if self._charge_state():
                if self._c_since is None:
                    self._c_since = now
                if _elapsed(self._c_since, now, cfg.c_enter_debounce_s):
                    self._contactor = True
                    self._suspended_by_ev = False
                    self._wake_done = False
                    self._enter(PilotPhase.CHARGING, now)
                return
            self._c_since = None
            if (
                cfg.wake_up_enabled
                and not self._wake_done
                and self._offer_since is not None
                and _elapsed(self._offer_since, now, cfg.wake_after_s)
            ):
                _log.info("no charge request %.0f s after the offer: wake-up", cfg.wake_after_s)
                self._wake_done = True
                self._set_signal(STATE_F, now)
                self._enter(PilotPhase.WAKE_F, now)
                return
            if (
                self._wake_ended_at is not None
                and not self._suspended_by_ev
                and _elapsed(self._wake_ended_at, now, cfg.wake_give_up_s)
            ):
                _log.info("car does not draw after the wake-up: suspended by EV")
                self._suspended_by_ev = True

    def _status(self) -> PilotStatus:
        now = self._clock.monotonic()
        blocked = None
        if self._phase is PilotPhase.PAUSED:
            blocked = self._resume_blocked(now, self._wanted_a())
        return PilotStatus(
            phase=self._phase,
            signal=self._signal,
            contactor_closed=self._contactor,
            vehicle_state=self._vehicle,
            suspended_by_ev=self._suspended_by_ev,
            fault=None if self._fault is None else self._fault.text,
            fault_kind=None if self._fault is None else self._fault.kind,
            interruptions=self._interruptions,
            resume_blocked=blocked,
            ignored_pause=self._ignored_pause,
        )
