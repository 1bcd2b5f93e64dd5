"""The sampledValue list of a MeterValues message, from one connector snapshot, in 1.6's
words (values as strings, a `unit`). Pure.

A sample with a non-finite number (a meter answering NaN or garbage) reports no meter values at
all: an absent value is honest, a NaN on a bill is not (`controller.meter_readings`).
"""

from __future__ import annotations

from typing import Any

from controller.meter_readings import readings
from controller.station.model import ConnectorSnapshot


def sampled_values(
    snap: ConnectorSnapshot, measurands: list[str], context: str
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value, measurand, unit, phase in readings(snap, measurands):
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
    return out
