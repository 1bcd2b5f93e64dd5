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

This module is the machine's front: its inputs, the order of one step, and the status. The parts
live by job in `hw.pilot_config` (settings), `hw.pilot_status` (phase and outputs),
`hw.pilot_state` (memory and timers), `hw.pilot_session` (offer, pause, resume, wake-up) and
`hw.pilot_faults` (the fault latch); every public name stays importable from here.
"""

from __future__ import annotations

import math

from hw.base import CpState, Fault, FaultKind, PilotMode, PilotSignal
from hw.clock import Clock
from hw.iec61851 import CpReading
from hw.pilot_config import PilotConfig
from hw.pilot_faults import fault_causes, raise_fault, step_fault, vehicle_view
from hw.pilot_session import resume_blocked, start_session, step_session, unplugged, wanted_a
from hw.pilot_state import PilotState, elapsed
from hw.pilot_status import STATE_F, X1, PilotPhase, PilotStatus

__all__ = [
    "STATE_F",
    "X1",
    "PilotConfig",
    "PilotMode",
    "PilotPhase",
    "PilotSignal",
    "PilotStateMachine",
    "PilotStatus",
]


class PilotStateMachine:
    """One connector's pilot and contactor logic. Not thread-safe; call from one task."""

    def __init__(self, config: PilotConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        now = clock.monotonic()
        self._st = PilotState(phase_since=now, signal_since=now)
        self.restart()

    # ----------------------------------------------------------------- inputs

    @property
    def config(self) -> PilotConfig:
        return self._config

    @property
    def limit_a(self) -> float:
        return self._st.limit_a

    def set_limit(self, limit_a: float) -> None:
        """Record the wanted limit; the next `step()` acts on it (a pause at once)."""
        if not math.isfinite(limit_a) or limit_a < 0:
            raise ValueError(f"a limit must be a finite number of amps >= 0, got {limit_a!r}")
        self._st.limit_a = float(limit_a)

    def restart(self) -> None:
        """Start over from the safe state (X1, contactor open), as after a process start.

        Keeps the limit; a session that was offering counts as paused so the minimum pause
        applies before anything is offered again.
        """
        st = self._st
        now = self._clock.monotonic()
        if st.signal.mode is not PilotMode.X1 or st.contactor:
            st.pause_started_at = now
        st.set_signal(X1, now)
        st.contactor = False
        st.fault = None
        st.fault_cause_gone_at = None
        st.fault_shown_f_until = None
        st.enter(PilotPhase.STARTUP, now)

    def fail(self, reason: str, kind: FaultKind = FaultKind.IO) -> PilotStatus:
        """Latch a fault that the caller detected (a read error, for example) and return the
        safe outputs without waiting for the next step."""
        now = self._clock.monotonic()
        raise_fault(self._st, self._config, Fault(kind, reason), now, show_f=False)
        self._st.fault_cause_gone_at = now
        return self._status()

    def status(self) -> PilotStatus:
        return self._status()

    # ------------------------------------------------------------------- step

    def step(
        self, reading: CpReading | CpState, contactor_feedback: bool | None = None
    ) -> PilotStatus:
        """Advance the timers with one measurement and return the outputs to apply now."""
        st, cfg = self._st, self._config
        now = self._clock.monotonic()
        if isinstance(reading, CpState):
            reading = CpReading(reading)
        seen = vehicle_view(st, cfg, reading, now)
        causes = fault_causes(st, cfg, reading, seen, contactor_feedback, now)
        if seen is not None:
            st.vehicle = seen

        if st.phase is PilotPhase.STARTUP:
            if causes:
                raise_fault(st, cfg, causes[0], now, show_f=True)
                return self._status()
            if not elapsed(st.phase_since, now, cfg.startup_hold_s):
                return self._status()
            st.enter(PilotPhase.IDLE, now)

        if st.vehicle is CpState.A and st.phase is not PilotPhase.FAULT:
            unplugged(st, now)
        elif st.vehicle is CpState.A and not causes:
            # Unplugging clears every fault that the car could have caused.
            st.fault = None
            unplugged(st, now)

        if causes and st.phase is not PilotPhase.FAULT:
            raise_fault(st, cfg, causes[0], now, show_f=True)
        if st.phase is PilotPhase.FAULT:
            step_fault(st, cfg, causes, now)
            return self._status()

        if st.phase is PilotPhase.IDLE:
            if st.vehicle in (CpState.B, CpState.C, CpState.D):
                start_session(st, now)
            else:
                return self._status()

        step_session(st, cfg, now)
        return self._status()

    def _status(self) -> PilotStatus:
        st = self._st
        now = self._clock.monotonic()
        blocked = None
        if st.phase is PilotPhase.PAUSED:
            blocked = resume_blocked(st, self._config, now, wanted_a(st, self._config))
        return PilotStatus(
            phase=st.phase,
            signal=st.signal,
            contactor_closed=st.contactor,
            vehicle_state=st.vehicle,
            suspended_by_ev=st.suspended_by_ev,
            fault=None if st.fault is None else st.fault.text,
            fault_kind=None if st.fault is None else st.fault.kind,
            interruptions=st.interruptions,
            resume_blocked=blocked,
            ignored_pause=st.ignored_pause,
        )
