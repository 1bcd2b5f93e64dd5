"""The memory of one connector's pilot state machine, and the timer rule every transition uses.

Kept as one plain record so the transitions (`hw.pilot_session` for a plugged-in session,
`hw.pilot_faults` for the fault latch) are functions of (state, settings, now) and can live in
files of their own without reaching into a class; `hw.pilot.PilotStateMachine` owns the only
instance. No I/O, no clock: `now` is always passed in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hw.base import CpState, Fault, PilotMode, PilotSignal
from hw.pilot_status import X1, PilotPhase

# One logger for the whole state machine, under the name operators already filter on.
log = logging.getLogger("hw.pilot")

EPSILON_S = 1e-6  # timers are compared with this slack: float sums of ticks drift


def elapsed(since: float, now: float, duration_s: float) -> bool:
    """True once `duration_s` has passed since `since`, within float slack."""
    return now - since >= duration_s - EPSILON_S


@dataclass(slots=True)
class PilotState:
    """Everything the state machine remembers between two steps (times are monotonic s)."""

    phase_since: float
    signal_since: float
    phase: PilotPhase = PilotPhase.STARTUP
    limit_a: float = 0.0
    signal: PilotSignal = X1
    contactor: bool = False
    vehicle: CpState = CpState.A
    """The last CP state that reflects the car (not our own F)."""
    suspended_by_ev: bool = False
    interruptions: int = 0
    pause_started_at: float | None = None
    last_duty_write: float | None = None
    offer_since: float | None = None
    wake_done: bool = False
    wake_ended_at: float | None = None
    c_since: float | None = None
    fault: Fault | None = None
    fault_cause_gone_at: float | None = None
    fault_shown_f_until: float | None = None
    feedback_mismatch_since: float | None = None
    cap_warned: bool = False
    ignored_pause: bool = False

    def enter(self, phase: PilotPhase, now: float) -> None:
        if phase is not self.phase:
            log.debug("pilot %s -> %s", self.phase, phase)
        self.phase = phase
        self.phase_since = now

    def set_signal(self, signal: PilotSignal, now: float) -> None:
        if signal != self.signal:
            self.signal = signal
            self.signal_since = now
            if signal.mode is PilotMode.PWM:
                self.last_duty_write = now
