"""Which number of a connector's meter sample each OCPP measurand names, for both versions.

1.6's MeterValues and 2.0.1's TransactionEvents write a sampled value differently (a string
and `unit`, a number and `unitOfMeasure`), but what a measurand reads, per phase, and that a
sample with a non-finite number reports nothing but the offered current must not differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from controller.ocpp.transactions import sample_is_finite
from controller.station import ConnectorSnapshot


class Reading(NamedTuple):
    value: float
    measurand: str
    unit: str
    phase: str | None = None


def readings(snap: ConnectorSnapshot, measurands: Iterable[str]) -> Iterator[Reading]:
    """The readings the measurands ask for, in their order; a measurand this charger cannot
    sample, or one of a meter not read or answering NaN, gives none. Pure."""
    m = snap.meter
    if m is not None and not sample_is_finite(m):
        m = None
    for measurand in measurands:
        if measurand == "Current.Offered":
            yield Reading(snap.status.offered_a, measurand, "A")
        elif m is None:
            continue
        elif measurand == "Energy.Active.Import.Register":
            yield Reading(m.energy_wh, measurand, "Wh")
        elif measurand == "Power.Active.Import":
            yield Reading(m.power_w, measurand, "W")
        elif measurand == "Current.Import":
            for phase, amps in zip(("L1", "L2", "L3"), m.current_a, strict=True):
                yield Reading(amps, measurand, "A", phase)
        elif measurand == "Voltage":
            for phase, volts in zip(("L1-N", "L2-N", "L3-N"), m.voltage_v, strict=True):
                if volts > 0:
                    yield Reading(volts, measurand, "V", phase)
