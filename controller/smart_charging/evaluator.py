"""The pure evaluator: which limit is in force on a connector, now and over a window.

No I/O and no clock: every function takes the installed profiles, the connector's transaction
and the time. One code path serves both questions ("the limit now" is the first piece of the
composite from now), so the limit the charger enforces and the composite schedule it reports to
the CSMS can never disagree.

How a window is computed:
1. each profile becomes a list of segments (start, end, limit) where it is *defined*: inside
   its validity, its schedule window and its periods (Absolute, Recurring and Relative anchors)
   (`segments`);
2. one "painting" pass per layer (`segments.paint`): profiles are laid down in priority order
   and each instant takes the first profile defined there. The Tx layer's order is TxProfiles
   (highest stack level first), then the connector's own TxDefaultProfiles, then connector
   0's; the cap layer is the ChargePointMaxProfiles, highest stack level first;
3. the two layers meet by minimum, after conversion to the requested unit.
Times are integer UTC seconds since the epoch inside this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from controller.smart_charging.model import (
    InstalledProfile,
    Limit,
    ProfileSource,
    Purpose,
    RateUnit,
    SmartChargingConfig,
    Transaction,
)
from controller.smart_charging.segments import DAY_S, Segment, paint, profile_segments
from controller.smart_charging.segments import epoch as epoch  # the evaluator's time helpers
from controller.smart_charging.segments import from_epoch as from_epoch

DEFAULT_PHASES = 3
# How far ahead `limit_at` looks for the next change.
NEXT_CHANGE_HORIZON_S = 8 * DAY_S


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the composite: `value` in the requested unit, None = nothing limits."""

    start: int
    end: int
    value: float | None
    phases: int | None
    source: ProfileSource | None


def floor_tenth(value: float) -> float:
    return math.floor(value * 10 + 1e-9) / 10


def convert(seg: Segment, unit: RateUnit, config: SmartChargingConfig) -> float:
    """R35: I = P / (U * n) and P = I * U * n, n = the period's numberPhases, 3 if absent."""
    if seg.unit is unit:
        return seg.limit
    n = seg.phases or DEFAULT_PHASES
    if unit is RateUnit.A:
        return floor_tenth(seg.limit / (config.voltage_v * n))
    return floor_tenth(seg.limit * config.voltage_v * n)


def _by_stack(profiles: Iterable[InstalledProfile]) -> list[InstalledProfile]:
    return sorted(profiles, key=lambda ip: -ip.profile.stack_level)


def layers_for(
    installed: Sequence[InstalledProfile], connector_id: int, tx: Transaction | None
) -> tuple[list[InstalledProfile], list[InstalledProfile]]:
    """(the Tx layer in priority order, the ChargePointMax layer in priority order)."""
    cap = _by_stack(ip for ip in installed if ip.profile.purpose is Purpose.CHARGE_POINT_MAX)
    if tx is None or connector_id == 0:
        # R30: TxDefault and TxProfile act only while a transaction runs on the connector.
        return [], cap
    tx_layer = _by_stack(
        ip
        for ip in installed
        if ip.profile.purpose is Purpose.TX and ip.connector_id == connector_id
    )
    own_default = _by_stack(
        ip
        for ip in installed
        if ip.profile.purpose is Purpose.TX_DEFAULT and ip.connector_id == connector_id
    )
    station_default = _by_stack(
        ip for ip in installed if ip.profile.purpose is Purpose.TX_DEFAULT and ip.connector_id == 0
    )
    return tx_layer + own_default + station_default, cap


def composite(
    installed: Sequence[InstalledProfile],
    connector_id: int,
    tx: Transaction | None,
    lo: int,
    hi: int,
    unit: RateUnit,
    config: SmartChargingConfig,
) -> list[Piece]:
    """The limit over [lo, hi) as consecutive pieces covering the whole window."""
    tx_layer, cap_layer = layers_for(installed, connector_id, tx)
    main = paint((profile_segments(ip, tx, lo, hi) for ip in tx_layer), lo, hi)
    cap = paint((profile_segments(ip, tx, lo, hi) for ip in cap_layer), lo, hi)
    cuts = sorted(
        {
            lo,
            hi,
            *(s.start for s in main),
            *(s.end for s in main),
            *(s.start for s in cap),
            *(s.end for s in cap),
        }
    )
    pieces: list[Piece] = []
    mi = ci = 0
    for a, b in pairwise(cuts):
        while mi < len(main) and main[mi].end <= a:
            mi += 1
        while ci < len(cap) and cap[ci].end <= a:
            ci += 1
        m = main[mi] if mi < len(main) and main[mi].start <= a else None
        c = cap[ci] if ci < len(cap) and cap[ci].start <= a else None
        best: Segment | None = None
        value: float | None = None
        for seg in (m, c):
            if seg is None:
                continue
            v = convert(seg, unit, config)
            if value is None or v < value:
                best, value = seg, v
        piece = Piece(
            a,
            b,
            value,
            None if best is None else best.phases,
            None if best is None else best.source,
        )
        if pieces and (pieces[-1].value, pieces[-1].phases, pieces[-1].source) == (
            piece.value,
            piece.phases,
            piece.source,
        ):
            pieces[-1] = Piece(pieces[-1].start, b, value, piece.phases, piece.source)
        else:
            pieces.append(piece)
    return pieces


def limit_at(
    installed: Sequence[InstalledProfile],
    connector_id: int,
    tx: Transaction | None,
    now: datetime,
    unit: RateUnit,
    config: SmartChargingConfig,
    horizon_s: int = NEXT_CHANGE_HORIZON_S,
) -> Limit:
    """The limit the charger enforces at `now`, which profile sets it, and when it may change."""
    t = epoch(now)
    pieces = composite(installed, connector_id, tx, t, t + horizon_s, unit, config)
    first = pieces[0]
    nxt = from_epoch(pieces[1].start) if len(pieces) > 1 else None
    return Limit(first.value, unit.value, first.source, nxt, first.phases)


def hardware_max(unit: RateUnit, config: SmartChargingConfig, connector_id: int) -> float:
    """R47: what an interval without any profile is reported as."""
    count = config.number_of_connectors if connector_id == 0 else 1
    if unit is RateUnit.A:
        return config.max_current_a * count
    return config.max_power_w * count


def schedule_payload(
    pieces: Sequence[Piece],
    lo: int,
    duration_s: int,
    unit: RateUnit,
    config: SmartChargingConfig,
    connector_id: int,
) -> dict[str, object]:
    """The `chargingSchedule` of a GetCompositeSchedule.conf, camelCase, one decimal."""
    fill = hardware_max(unit, config, connector_id)
    periods: list[dict[str, object]] = []
    last: tuple[float, int | None] | None = None
    for p in pieces:
        value = floor_tenth(fill if p.value is None else p.value)
        key = (value, p.phases)
        if key == last:
            continue
        last = key
        entry: dict[str, object] = {"startPeriod": p.start - lo, "limit": value}
        if p.phases is not None:
            entry["numberPhases"] = p.phases
        periods.append(entry)
    return {
        "duration": duration_s,
        "startSchedule": from_epoch(lo).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "chargingRateUnit": unit.value,
        "chargingSchedulePeriod": periods,
    }
