"""One connector as the control loop keeps it: its hardware and what the loop last saw and
decided. In a module of its own so that the loop's helpers (phase wiring, the fuse guard's
inputs) can name it without importing the loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.charger.binding import LimitSource
from controller.charger.fuse_guard import FuseLimit
from controller.charger.phase_choice import PhaseChooser, PhaseReason
from controller.smart_charging import Limit
from hw.base import EvseDriver, EvseStatus, Meter, MeterSample


@dataclass(eq=False)
class ConnectorUnit:
    """One connector's hardware and what the loop last saw and decided for it."""

    connector_id: int
    driver: EvseDriver
    meter: Meter | None
    max_current_a: float
    status: EvseStatus | None = None
    sample: MeterSample | None = None
    limit: Limit | None = None
    target_a: float | None = None
    operative: bool = True
    last_error: str | None = None
    limit_source: LimitSource | None = None
    fuse_limit: FuseLimit | None = None
    """The main-fuse guard's cap and why, when a grid meter is configured."""
    phases: int | None = None
    """The phases asked of a connector that can switch, and why."""
    phase_reason: PhaseReason | None = None
    phase_chooser: PhaseChooser = field(default_factory=PhaseChooser, repr=False)
    _meter_failures: int = field(default=0, repr=False)
    shut_down: bool = field(default=False, repr=False)
    next_poll_mono: float | None = field(default=None, repr=False)
    polls: int = field(default=0, repr=False)
