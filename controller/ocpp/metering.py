"""The sampledValue list of a MeterValues message, from one connector snapshot. Pure.

A sample with a non-finite number (a meter answering NaN or garbage) reports no meter values at
all: an absent value is honest, a NaN on a bill is not.
"""

from __future__ import annotations

from typing import Any

from controller.ocpp.transactions import sample_is_finite
from controller.station.model import ConnectorSnapshot


def sampled_values(
    snap: ConnectorSnapshot, measurands: list[str], context: str
) -> list[dict[str, Any]]:
    m = snap.meter
    if m is not None and not sample_is_finite(m):
        m = None
    out: list[dict[str, Any]] = []

    def add(value: float, measurand: str, unit: str, phase: str | None = None) -> None:
        sv: dict[str, Any] = {
            "value": f"{value:.1f}",
            "context": context,
            "measurand": measurand,
            "location": "Outlet",
            "unit": unit,
        }
        if phase:
            sv["phase"] = phase
        out.append(sv)

    for measurand in measurands:
        if measurand == "Current.Offered":
            add(snap.status.offered_a, measurand, "A")
        elif m is None:
            continue
        elif measurand == "Energy.Active.Import.Register":
            add(m.energy_wh, measurand, "Wh")
        elif measurand == "Power.Active.Import":
            add(m.power_w, measurand, "W")
        elif measurand == "Current.Import":
            for phase, amps in zip(("L1", "L2", "L3"), m.current_a, strict=True):
                add(amps, measurand, "A", phase)
        elif measurand == "Voltage":
            for phase, volts in zip(("L1-N", "L2-N", "L3-N"), m.voltage_v, strict=True):
                if volts > 0:
                    add(volts, measurand, "V", phase)
    return out
