"""Sharing one station supply limit between the connectors that are charging.

A ChargePointMaxProfile (or the configured supply limit) caps the station's total. The share is
equal, water-filled: a connector that wants less than its share leaves the rest to the others.
When an equal share would fall under the minimum a car can use (6 A), offering it would only make
cars stop and start, so the connector that started last is paused instead and the share is
computed again for the others. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Demand:
    """What one charging connector could take: `wanted_a` is its own cap (profiles, hardware)."""

    connector_id: int
    wanted_a: float
    started_at: datetime


def share_station_limit(
    station_limit_a: float | None, demands: Sequence[Demand], min_current_a: float = 6.0
) -> dict[int, float]:
    """Return the current each connector may be offered; 0.0 means paused."""
    if station_limit_a is None:
        return {d.connector_id: max(0.0, d.wanted_a) for d in demands}
    active = [d for d in demands if d.wanted_a >= min_current_a]
    result = {d.connector_id: 0.0 for d in demands if d.wanted_a < min_current_a}
    # The earliest sessions keep their place; the latest one yields first.
    active.sort(key=lambda d: (d.started_at, d.connector_id))
    while active:
        shares = _water_fill(max(0.0, station_limit_a), active)
        if all(shares[d.connector_id] >= min_current_a for d in active):
            result.update(shares)
            break
        last = active.pop()
        result[last.connector_id] = 0.0
    return result


def _water_fill(total_a: float, demands: Sequence[Demand]) -> dict[int, float]:
    shares: dict[int, float] = {}
    remaining = total_a
    pending = sorted(demands, key=lambda d: d.wanted_a)
    while pending:
        equal = remaining / len(pending)
        d = pending[0]
        if d.wanted_a <= equal:
            shares[d.connector_id] = d.wanted_a
            remaining -= d.wanted_a
            pending.pop(0)
        else:
            for rest in pending:
                shares[rest.connector_id] = _floor_tenth(equal)
            break
    return shares


def _floor_tenth(value_a: float) -> float:
    return int(value_a * 10 + 1e-9) / 10
