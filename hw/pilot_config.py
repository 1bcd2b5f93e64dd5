"""The settings of the pilot state machine, checked once when they are made.

Separate from the machine because more than the machine reads them: the configuration layer
mirrors every field (`controller.config_hw`), the simulator and the drivers build one, and none
of those needs the transitions. Defaults come from the team reference (section 6.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from hw.iec61851 import DEFAULT_BANDS, MAX_CURRENT_A, MIN_CURRENT_A, CpBands


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
