"""What the pilot state machine reports: its phase and the outputs to apply now.

Separate from the machine because the readers are many and need no transitions: the drivers
apply a `PilotStatus`, the phase-switch sequencers (`hw.phase_switch`, `hw.modbus_phase`) wait
for a `PilotPhase`, the status page shows both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hw.base import CpState, FaultKind, PilotSignal

X1 = PilotSignal.x1()
STATE_F = PilotSignal.f()


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
