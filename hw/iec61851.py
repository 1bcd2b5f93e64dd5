"""IEC 61851-1 Annex A arithmetic, kept free of I/O so it can be checked exhaustively.

The pilot can only say "6 A or more" or "nothing": below 6 A the duty cycle means "digital
communication" or "error", so a smaller limit has to become a pause (+12 V DC), never a rounded-up
offer. The detection bands and their hysteresis follow the synthesis in the team reference
(A >= 11.0 V, B 7.6-11.0 V, C 4.6-7.6 V, D 1.5-4.6 V, E -1.5-1.5 V, F below), with 0.3 V of
hysteresis so a level sitting on a threshold does not flicker between states.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hw.base import CpState

MIN_CURRENT_A = 6.0
MAX_CURRENT_A = 80.0
MIN_DUTY_PERCENT = 10.0
MAX_DUTY_PERCENT = 96.0

# 51 A is the last current of the 0.6 A/% segment (85 %); the 2.5 A/% segment only starts
# above 85 %, which it reaches at 52.5 A. Currents in between cannot be signalled exactly.
_SEGMENT_BREAK_A = 51.0
_SEGMENT_BREAK_DUTY = 85.0
_SECOND_SEGMENT_START_A = 52.5


def _check_finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def duty_cycle_for_current(current_a: float) -> float:
    """The PWM duty cycle in percent that offers `current_a` to the car.

    6-51 A: I / 0.6; 51-80 A: I / 2.5 + 64. Between 51 and 52.5 A the second formula gives less
    than (or, at 52.5 A, exactly) 85 %, which the car reads as at most 51 A; those currents are
    sent as 85 % (= 51 A), the most that can be offered without exceeding the limit.
    """
    current_a = _check_finite(current_a, "current_a")
    if not MIN_CURRENT_A <= current_a <= MAX_CURRENT_A:
        raise ValueError(
            f"the pilot can signal {MIN_CURRENT_A:g}-{MAX_CURRENT_A:g} A, not {current_a:g} A; "
            "a smaller limit must pause the pilot instead"
        )
    if current_a <= _SEGMENT_BREAK_A:
        return current_a / 0.6
    if current_a <= _SECOND_SEGMENT_START_A:
        return _SEGMENT_BREAK_DUTY
    return current_a / 2.5 + 64.0


def current_for_duty_cycle(duty_percent: float) -> float:
    """The current in amps a car reads from a duty cycle of 10-96 %."""
    duty_percent = _check_finite(duty_percent, "duty_percent")
    if not MIN_DUTY_PERCENT <= duty_percent <= MAX_DUTY_PERCENT:
        raise ValueError(
            f"a current is signalled by {MIN_DUTY_PERCENT:g}-{MAX_DUTY_PERCENT:g} % duty, "
            f"not {duty_percent:g} %"
        )
    if duty_percent <= _SEGMENT_BREAK_DUTY:
        return duty_percent * 0.6
    return (duty_percent - 64.0) * 2.5


def ev_current_for_duty_cycle(duty_percent: float) -> float | None:
    """What a car does with any duty cycle (IEC 61851-1 Tables A.7/A.8): amps, or None for
    "no basic charging" (below 8 %: error or digital communication; above 97 %: X1)."""
    duty_percent = _check_finite(duty_percent, "duty_percent")
    if 8.0 <= duty_percent < MIN_DUTY_PERCENT:
        return MIN_CURRENT_A
    if MIN_DUTY_PERCENT <= duty_percent <= MAX_DUTY_PERCENT:
        return current_for_duty_cycle(duty_percent)
    if MAX_DUTY_PERCENT < duty_percent <= 97.0:
        return MAX_CURRENT_A
    return None


@dataclass(frozen=True, slots=True)
class CpBands:
    """Lower edges (volts, CP high level) of each state, and the hysteresis around them."""

    a_min_v: float = 11.0
    b_min_v: float = 7.6
    c_min_v: float = 4.6
    d_min_v: float = 1.5
    e_min_v: float = -1.5
    hysteresis_v: float = 0.3
    # While the PWM runs the low level must be about -12 V; anything above this means the car's
    # diode is missing or shorted.
    diode_low_max_v: float = -10.9

    def __post_init__(self) -> None:
        edges = (self.a_min_v, self.b_min_v, self.c_min_v, self.d_min_v, self.e_min_v)
        if any(not math.isfinite(edge) for edge in (*edges, self.hysteresis_v)):
            raise ValueError("CP bands must be finite numbers")
        if list(edges) != sorted(edges, reverse=True) or len(set(edges)) != len(edges):
            raise ValueError("CP bands must fall strictly from A to E")
        if not 0 <= self.hysteresis_v < min(a - b for a, b in itertools.pairwise(edges)):
            raise ValueError("CP hysteresis must be >= 0 and narrower than every band")

    def band(self, state: CpState) -> tuple[float, float]:
        """The [low, high) voltage range of `state`."""
        ranges = {
            CpState.A: (self.a_min_v, math.inf),
            CpState.B: (self.b_min_v, self.a_min_v),
            CpState.C: (self.c_min_v, self.b_min_v),
            CpState.D: (self.d_min_v, self.c_min_v),
            CpState.E: (self.e_min_v, self.d_min_v),
            CpState.F: (-math.inf, self.e_min_v),
        }
        return ranges[state]


DEFAULT_BANDS = CpBands()


def classify_cp_voltage(
    high_v: float, previous: CpState | None = None, bands: CpBands = DEFAULT_BANDS
) -> CpState:
    """The CP state for a measured high level, holding `previous` while the level stays within
    the hysteresis margin around its band."""
    high_v = _check_finite(high_v, "high_v")
    if previous is not None:
        low, high = bands.band(previous)
        if low - bands.hysteresis_v <= high_v < high + bands.hysteresis_v:
            return previous
    for state in (CpState.A, CpState.B, CpState.C, CpState.D, CpState.E):
        if high_v >= bands.band(state)[0]:
            return state
    return CpState.F


def diode_check_failed(low_v: float | None, bands: CpBands = DEFAULT_BANDS) -> bool:
    """True when the low level measured during PWM is too high for a car's diode to be there.
    Only meaningful while the PWM runs (in X1 the low level equals the high level)."""
    if low_v is None:
        return False
    return not (math.isfinite(low_v) and low_v <= bands.diode_low_max_v)


@dataclass(frozen=True, slots=True)
class CpReading:
    """One measurement of the control pilot: the classified state and, when the hardware can
    tell, the high and low levels of the waveform in volts."""

    state: CpState
    high_v: float | None = None
    low_v: float | None = None


class CpClassifier:
    """Turns successive high-level readings into states, remembering the last state for the
    hysteresis. Not thread-safe; one per CP input."""

    def __init__(self, bands: CpBands = DEFAULT_BANDS) -> None:
        self._bands = bands
        self._state: CpState | None = None

    @property
    def bands(self) -> CpBands:
        return self._bands

    @property
    def state(self) -> CpState | None:
        return self._state

    def classify(self, high_v: float) -> CpState:
        self._state = classify_cp_voltage(high_v, self._state, self._bands)
        return self._state

    def reading(self, high_v: float, low_v: float | None = None) -> CpReading:
        return CpReading(self.classify(high_v), high_v, low_v)

    def reset(self) -> None:
        self._state = None
