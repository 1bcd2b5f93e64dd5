"""The EV-emulator rig's circuit (docs/hil.md): which switches make which CP level.

Pure arithmetic shared by the rig's twin (`hw.emulators.ev_rig`), the end-of-line test's
limits (`controller.selftest`) and the voltage table of docs/hil.md, so the three cannot drift
apart. Nominal parts: a +-12 V generator behind 1 kOhm, a 0.7 V diode, R2 = 2.74 kOhm (B),
R3 = 1.3 kOhm (C) and 270 Ohm (D) in parallel with R2, and a switch shorting CP to PE (E).
"""

from __future__ import annotations

from enum import StrEnum

GENERATOR_V = 12.0
SOURCE_OHM = 1000.0
DIODE_V = 0.7
R2_OHM = 2740.0  # state B: always in the car once plugged
R3_OHM = 1300.0  # state C: in parallel with R2
RD_OHM = 270.0  # state D: in parallel with R2 (ventilation)


class RigSwitch(StrEnum):
    """The rig's switches, each a MOSFET or relay on one GPIO."""

    PLUG = "plug"  # S1: diode + R2 onto CP (state B)
    REQUEST = "request"  # S2: R3 in parallel (state C)
    VENTILATION = "ventilation"  # S3: 270 Ohm in parallel (state D)
    SHORT = "short"  # S4: CP to PE (state E)


# BCM numbers of the default single-Pi rig (docs/hil.md).
DEFAULT_SWITCH_GPIOS: dict[RigSwitch, int] = {
    RigSwitch.PLUG: 5,
    RigSwitch.REQUEST: 6,
    RigSwitch.VENTILATION: 13,
    RigSwitch.SHORT: 26,
}


def _car_level_v(generator_v: float, closed: frozenset[RigSwitch]) -> float:
    if RigSwitch.SHORT in closed:
        return 0.0
    if RigSwitch.PLUG not in closed or generator_v <= DIODE_V:
        return generator_v  # no car, or the diode blocks the negative half
    load_ohm = R2_OHM
    for switch, ohm in ((RigSwitch.REQUEST, R3_OHM), (RigSwitch.VENTILATION, RD_OHM)):
        if switch in closed:
            load_ohm = load_ohm * ohm / (load_ohm + ohm)
    return DIODE_V + (generator_v - DIODE_V) * load_ohm / (load_ohm + SOURCE_OHM)


def cp_levels_v(duty_percent: float, closed: frozenset[RigSwitch]) -> tuple[float, float]:
    """What the positive and negative peak detectors hold: the CP level during the generator's
    high phase and during its low phase (X1 has no low phase, F no high phase)."""
    high_phase_v = _car_level_v(GENERATOR_V, closed)
    low_phase_v = _car_level_v(-GENERATOR_V, closed)
    high_v = high_phase_v if duty_percent > 0 else low_phase_v
    low_v = low_phase_v if duty_percent < 100 else high_phase_v
    return high_v, low_v


def adc_counts(cp_v: float, volts_per_unit: float, offset_v: float, bits: int = 10) -> int:
    full = (1 << bits) - 1
    return max(0, min(full, round((cp_v - offset_v) / volts_per_unit * full)))
