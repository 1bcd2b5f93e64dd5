"""IEC 61851-1 control pilot arithmetic: duty cycle <-> current, pilot voltage -> state. Pure.

Annex A: 6..51 A are signalled as duty = I / 0.6 (10..85 %), 51..80 A as duty = I / 2.5 + 64
(85..96 %). Nothing under 6 A can be signalled: a charger that must offer less pauses (+12 V,
no PWM). 5 % means "digital communication required", never "pause".
"""

from __future__ import annotations

from dataclasses import dataclass

from hw.base import CpState

MIN_CURRENT_A = 6.0
MAX_CURRENT_A = 80.0
MIN_DUTY_PERCENT = 10.0
MAX_DUTY_PERCENT = 96.0
_KNEE_A = 51.0
_KNEE_PERCENT = 85.0


def duty_cycle_for_current(current_a: float) -> float:
    """Percent duty cycle that offers `current_a` (6..80 A); ValueError outside that range."""
    if not MIN_CURRENT_A <= current_a <= MAX_CURRENT_A:
        raise ValueError(
            f"{current_a} A cannot be signalled by PWM: IEC 61851-1 covers "
            f"{MIN_CURRENT_A:g}..{MAX_CURRENT_A:g} A (pause instead)"
        )
    if current_a <= _KNEE_A:
        return current_a / 0.6
    return current_a / 2.5 + 64.0


def current_for_duty_cycle(duty_percent: float) -> float:
    """The current (A) a duty cycle of 10..96 % offers; ValueError outside that range."""
    if not MIN_DUTY_PERCENT <= duty_percent <= MAX_DUTY_PERCENT:
        raise ValueError(
            f"a duty cycle of {duty_percent} % offers no current: IEC 61851-1 covers "
            f"{MIN_DUTY_PERCENT:g}..{MAX_DUTY_PERCENT:g} %"
        )
    if duty_percent <= _KNEE_PERCENT:
        return duty_percent * 0.6
    return (duty_percent - 64.0) * 2.5


@dataclass(frozen=True, slots=True)
class VoltageBands:
    """Lower edges (V) of the high-level bands, and the hysteresis around each edge.

    Defaults: A >= 11.0 V, B 7.6..11.0, C 4.6..7.6, D 1.6..4.6, E -1.5..1.5, F <= -10.9,
    with 0.3 V hysteresis (a synthesis of EVerest, OpenEVSE and WARP thresholds).
    """

    a_min_v: float = 11.0
    b_min_v: float = 7.6
    c_min_v: float = 4.6
    d_min_v: float = 1.6
    e_min_v: float = -1.5
    e_max_v: float = 1.5
    f_max_v: float = -10.9
    hysteresis_v: float = 0.3


def _raw_state(high_v: float, bands: VoltageBands) -> CpState | None:
    if high_v >= bands.a_min_v:
        return CpState.A
    if high_v >= bands.b_min_v:
        return CpState.B
    if high_v >= bands.c_min_v:
        return CpState.C
    if high_v >= bands.d_min_v:
        return CpState.D
    if bands.e_min_v <= high_v <= bands.e_max_v:
        return CpState.E
    if high_v <= bands.f_max_v:
        return CpState.F
    return None  # between bands: not a valid pilot level


class CpClassifier:
    """Pilot high-level voltage -> state, with hysteresis so a reading near an edge does not
    flap. Out-of-band readings keep the previous state (and count as unstable)."""

    def __init__(self, bands: VoltageBands | None = None) -> None:
        self.bands = bands or VoltageBands()
        self.state: CpState = CpState.E
        self.unstable_readings = 0

    def classify(self, high_v: float, low_v: float | None = None) -> CpState:
        b = self.bands
        raw = _raw_state(high_v, b)
        if raw is None:
            self.unstable_readings += 1
            return self.state
        if raw is not self.state and self._within_hysteresis(high_v):
            return self.state
        self.state = raw
        return raw

    def _within_hysteresis(self, high_v: float) -> bool:
        b = self.bands
        edges = (b.a_min_v, b.b_min_v, b.c_min_v, b.d_min_v)
        order = [CpState.A, CpState.B, CpState.C, CpState.D]
        if self.state not in order:
            return False
        i = order.index(self.state)
        # The edges of the current band: below is edges[i], above is edges[i-1] (none for A).
        lower = edges[i]
        upper = edges[i - 1] if i > 0 else None
        if lower - b.hysteresis_v <= high_v < lower:
            return True
        return upper is not None and upper <= high_v < upper + b.hysteresis_v
