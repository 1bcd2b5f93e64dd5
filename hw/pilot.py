"""The pilot state machine for a charger that drives the control pilot itself.

Pure logic on an injected time: inputs are the wanted limit, the measured pilot state and the
time; outputs are the pilot level (X1 = +12 V without PWM, PWM at a duty cycle, or F = -12 V)
and the contactor command. The rules (IEC 61851-1 Annex A, and what EVerest, SmartEVSE and
WARP do in the field):

* A limit under the minimum (6 A) pauses at once: X1, never 5 %. Pausing never waits.
* The contactor opens as soon as the car leaves C (within one poll, well under 100 ms at the
  default 10 Hz), and after `force_open_after_s` (6 s) if the car ignores the pause.
* Resuming re-applies the PWM, but only after `min_pause_s` (default 10 s) of pause, and the
  duty between two non-zero currents changes at most every `pwm_min_update_interval_s` (5 s).
* A car still in B `wake_after_s` (30 s) after current is offered gets one wake-up (F for 4 s,
  X1 for 0.75 s, PWM again); if it still does not request energy `wake_give_up_s` later it is
  reported as suspended by the EV, and the offer stays on.
* After `max_interruptions_per_session` pauses, a resume waits `capped_min_pause_s` instead, so
  a flapping limit cannot wear out the car's charger.
* The contactor closes only in C (D only if ventilation is configured), and unplugging resets
  the session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from hw.base import CpState
from hw.iec61851 import MAX_CURRENT_A, duty_cycle_for_current

X1_DUTY = 100.0
F_DUTY = 0.0


class PilotLevel(StrEnum):
    X1 = "X1"
    PWM = "PWM"
    F = "F"


@dataclass(frozen=True, slots=True)
class PilotConfig:
    min_current_a: float = 6.0
    min_pause_s: float = 10.0
    pwm_min_update_interval_s: float = 5.0
    force_open_after_s: float = 6.0
    wake_after_s: float = 30.0
    wake_f_s: float = 4.0
    wake_x1_s: float = 0.75
    wake_give_up_s: float = 10.0
    max_interruptions_per_session: int = 8
    capped_min_pause_s: float = 300.0
    ventilation_supported: bool = False
    max_current_a: float = 32.0


@dataclass(frozen=True, slots=True)
class PilotCommand:
    """What the outputs must do now."""

    level: PilotLevel
    duty_percent: float
    offered_a: float
    contactor_closed: bool
    suspended_by_ev: bool
    fault: str | None


class _Wake(StrEnum):
    IDLE = "idle"  # waiting to see whether the car requests energy
    F = "F"
    X1 = "X1"
    DONE = "done"  # tried once for this offer


class PilotStateMachine:
    def __init__(self, config: PilotConfig | None = None) -> None:
        self.config = config or PilotConfig()
        self.offered_a = 0.0  # current PWM offer; 0.0 while X1 or F
        self.contactor_closed = False
        self.interruptions = 0
        self.suspended_by_ev = False
        self.ignored_pause = False
        self._pending_a = 0.0
        self._paused_at: float | None = None  # start of the current pause
        self._duty_changed_at: float | None = None
        self._offer_started_at: float | None = None  # for the wake-up timer
        self._wake = _Wake.IDLE
        self._wake_step_at = 0.0
        self._last_state: CpState = CpState.A

    # --- inputs -------------------------------------------------------------------------

    def step(self, now_s: float, wanted_a: float, cp: CpState) -> PilotCommand:
        """Advance to `now_s` with the wanted limit and the measured pilot state."""
        c = self.config
        wanted_a = min(wanted_a, c.max_current_a, MAX_CURRENT_A)
        if wanted_a < c.min_current_a or math.isnan(wanted_a):
            wanted_a = 0.0
        else:
            wanted_a = math.floor(wanted_a * 10 + 1e-9) / 10

        driving_f = self._wake is _Wake.F
        if not driving_f:
            self._last_state = cp
        # While we drive F ourselves the sensor reads F; the car's state is the last one seen.
        car = self._last_state

        if car is CpState.A:
            self._reset_session()
            return self._command(PilotLevel.X1, None)
        if car is CpState.E or (car is CpState.D and not c.ventilation_supported):
            fault = (
                "pilot shorted to PE (state E)"
                if car is CpState.E
                else "vehicle requests ventilation (state D), not supported"
            )
            self._stop_offer(now_s)
            self.contactor_closed = False
            return self._command(PilotLevel.X1, fault)
        if car is CpState.F and not driving_f:
            self._stop_offer(now_s)
            self.contactor_closed = False
            return self._command(PilotLevel.X1, "pilot reads -12 V (state F) without our doing")

        # --- the offer ---------------------------------------------------------------------
        if wanted_a == 0.0:
            if self.offered_a > 0.0 or self._wake in (_Wake.F, _Wake.X1):
                self._stop_offer(now_s)
                self.interruptions += 1
        elif self.offered_a == 0.0 and self._wake not in (_Wake.F, _Wake.X1):
            if self._may_resume(now_s):
                self._start_offer(now_s, wanted_a)
        elif self.offered_a > 0.0 and wanted_a != self.offered_a:
            self._pending_a = wanted_a
            assert self._duty_changed_at is not None
            if now_s - self._duty_changed_at >= c.pwm_min_update_interval_s:
                self.offered_a = wanted_a
                self._duty_changed_at = now_s
        if self.offered_a > 0.0 and wanted_a == self.offered_a:
            self._pending_a = wanted_a

        # --- the contactor -----------------------------------------------------------------
        requesting = car is CpState.C or (car is CpState.D and c.ventilation_supported)
        if self.contactor_closed and not requesting:
            self.contactor_closed = False  # the car stopped: open at once
        paused_s = -1.0 if self._paused_at is None else now_s - self._paused_at
        if self.offered_a == 0.0 and self.contactor_closed and paused_s >= c.force_open_after_s:
            # The car ignores the pause: open under load rather than let it charge on.
            self.contactor_closed = False
            self.ignored_pause = True
        if self.offered_a > 0.0 and requesting and self._wake not in (_Wake.F, _Wake.X1):
            self.contactor_closed = True

        # --- the wake-up -------------------------------------------------------------------
        level = PilotLevel.PWM if self.offered_a > 0.0 else PilotLevel.X1
        if requesting:
            self.suspended_by_ev = False
            if self._wake is not _Wake.DONE:
                self._wake = _Wake.IDLE
            self._offer_started_at = now_s if self.offered_a > 0 else self._offer_started_at
        elif self.offered_a > 0.0 and car is CpState.B:
            level = self._wake_up(now_s, level)
        return self._command(level, None)

    # --- helpers ------------------------------------------------------------------------

    def _may_resume(self, now_s: float) -> bool:
        if self._paused_at is None:
            return True
        c = self.config
        wait = (
            c.capped_min_pause_s
            if self.interruptions >= c.max_interruptions_per_session
            else c.min_pause_s
        )
        return now_s - self._paused_at >= wait

    def _start_offer(self, now_s: float, wanted_a: float) -> None:
        self.offered_a = wanted_a
        self._pending_a = wanted_a
        self._duty_changed_at = now_s
        self._offer_started_at = now_s
        self._paused_at = None
        self._wake = _Wake.IDLE
        self.suspended_by_ev = False

    def _stop_offer(self, now_s: float) -> None:
        if self.offered_a > 0.0 or self._paused_at is None:
            self._paused_at = now_s
        self.offered_a = 0.0
        self._pending_a = 0.0
        self._offer_started_at = None
        if self._wake in (_Wake.F, _Wake.X1):
            self._wake = _Wake.IDLE

    def _wake_up(self, now_s: float, level: PilotLevel) -> PilotLevel:
        c = self.config
        started = self._offer_started_at if self._offer_started_at is not None else now_s
        if self._wake is _Wake.IDLE and now_s - started >= c.wake_after_s:
            self._wake = _Wake.F
            self._wake_step_at = now_s
        if self._wake is _Wake.F:
            if now_s - self._wake_step_at < c.wake_f_s:
                return PilotLevel.F
            self._wake = _Wake.X1
            self._wake_step_at = now_s
        if self._wake is _Wake.X1:
            if now_s - self._wake_step_at < c.wake_x1_s:
                return PilotLevel.X1
            self._wake = _Wake.DONE
            self._wake_step_at = now_s
            self._duty_changed_at = now_s
        if self._wake is _Wake.DONE and now_s - self._wake_step_at >= c.wake_give_up_s:
            self.suspended_by_ev = True
        return level

    def _reset_session(self) -> None:
        self.offered_a = 0.0
        self._pending_a = 0.0
        self.contactor_closed = False
        self.interruptions = 0
        self.suspended_by_ev = False
        self.ignored_pause = False
        self._paused_at = None
        self._duty_changed_at = None
        self._offer_started_at = None
        self._wake = _Wake.IDLE

    def _command(self, level: PilotLevel, fault: str | None) -> PilotCommand:
        if level is PilotLevel.PWM:
            duty = duty_cycle_for_current(self.offered_a)
            offered = self.offered_a
        else:
            duty = F_DUTY if level is PilotLevel.F else X1_DUTY
            offered = 0.0
        return PilotCommand(
            level=level,
            duty_percent=duty,
            offered_a=offered,
            contactor_closed=self.contactor_closed and level is not PilotLevel.F,
            suspended_by_ev=self.suspended_by_ev,
            fault=fault,
        )
