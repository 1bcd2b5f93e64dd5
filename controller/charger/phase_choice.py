"""How many phases a connector that can switch should charge on, and why. Pure.

Two things ask for one phase: the smart-charging limit's `numberPhases` for the current period
(a profile that says 1 is a wish to charge on one phase), and the main-fuse guard when 3 x 6 A
does not fit under the fuse but 1 x 6 A does. A profile that says 3, or none, never switches to
three phases by itself: the way back to three is taken only when nothing asks for one phase and
three phases have fitted for `up_after_s` (switching costs the car a stop, and some cars do not
take it well). The rate limit and the switching itself are the driver's (`hw.phase_switch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhaseReason(StrEnum):
    HARDWARE = "hardware"  # the connector cannot switch
    PROFILE = "profile"  # the smart-charging period's numberPhases
    MAIN_FUSE = "main_fuse"  # three phases do not fit under the main fuse, one does
    THREE_FIT = "three_fit"  # three phases have fitted long enough to go back
    KEEP = "keep"  # nothing to change


@dataclass(frozen=True, slots=True)
class PhaseInputs:
    can_switch: bool
    hardware_phases: int
    phases_in_use: int
    profile_phases: int | None
    fuse_cap_3p_a: float | None
    """What the guard would allow on three phases now; None: no guard or no fresh reading."""
    fuse_cap_1p_a: float | None
    min_current_a: float


@dataclass(slots=True)
class PhaseChooser:
    up_after_s: float = 300.0
    up_hysteresis_a: float = 1.0
    _three_fit_since_s: float | None = None

    def choose(self, x: PhaseInputs, now_s: float) -> tuple[int, PhaseReason]:
        if not x.can_switch or x.hardware_phases != 3:
            return x.hardware_phases, PhaseReason.HARDWARE
        if x.profile_phases is not None and x.profile_phases < 3:
            self._three_fit_since_s = None
            return 1, PhaseReason.PROFILE
        three = x.fuse_cap_3p_a
        one = x.fuse_cap_1p_a
        if three is not None and one is not None and three < x.min_current_a <= one:
            self._three_fit_since_s = None
            return 1, PhaseReason.MAIN_FUSE
        if x.phases_in_use == 3:
            return 3, PhaseReason.KEEP
        # On one phase: back to three once three phases fit, with margin, for long enough.
        fits = three is None or three >= x.min_current_a + self.up_hysteresis_a
        if not fits:
            self._three_fit_since_s = None
            return 1, PhaseReason.KEEP
        if self._three_fit_since_s is None:
            self._three_fit_since_s = now_s
        if now_s - self._three_fit_since_s >= self.up_after_s:
            return 3, PhaseReason.THREE_FIT
        return 1, PhaseReason.KEEP
