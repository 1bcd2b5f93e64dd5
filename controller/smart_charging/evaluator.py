"""The pure evaluator: which limit is in force on a connector, now and over a window.

No I/O and no clock: every function takes the installed profiles, the connector's transaction
and the time. One code path serves both questions ("the limit now" is the first piece of the
composite from now), so the limit the charger enforces and the composite schedule it reports to
the CSMS can never disagree.

How a window is computed:
1. each profile becomes a list of segments (start, end, limit) where it is *defined*: inside
   its validity, its schedule window and its periods (Absolute, Recurring and Relative anchors);
2. one "painting" pass per layer: profiles are laid down in priority order and each instant
   takes the first profile defined there. The Tx layer's order is TxProfiles (highest stack
   level first), then the connector's own TxDefaultProfiles, then connector 0's; the cap layer
   is the ChargePointMaxProfiles, highest stack level first;
3. the two layers meet by minimum, after conversion to the requested unit.
Times are integer UTC seconds since the epoch inside this module.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from controller.smart_charging.model import (
    InstalledProfile,
    Kind,
    Limit,
    ProfileSource,
    Purpose,
    RateUnit,
    Recurrency,
    SmartChargingConfig,
    Transaction,
)

FOREVER = 1 << 62
DAY_S = 86_400
WEEK_S = 7 * DAY_S
DEFAULT_PHASES = 3
# How far ahead `limit_at` looks for the next change.
NEXT_CHANGE_HORIZON_S = 8 * DAY_S


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    limit: float
    unit: RateUnit
    phases: int | None
    source: ProfileSource


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the composite: `value` in the requested unit, None = nothing limits."""

    start: int
    end: int
    value: float | None
    phases: int | None
    source: ProfileSource | None


def epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: the smart-charging engine works in aware UTC")
    return math.floor(dt.timestamp())


def from_epoch(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def floor_tenth(value: float) -> float:
    return math.floor(value * 10 + 1e-9) / 10


def _occurrences(
    ip: InstalledProfile, tx: Transaction | None, lo: int, hi: int
) -> Iterable[tuple[int, int]]:
    """The schedule windows [anchor, end) of a profile that may overlap [lo, hi)."""
    p = ip.profile
    s = p.schedule
    if p.kind is Kind.RELATIVE or (p.kind is Kind.ABSOLUTE and s.start_schedule is None):
        # Relative, and Absolute without startSchedule (§7.13), count from the transaction start.
        if tx is None:
            return
        a = epoch(tx.start)
        yield a, FOREVER if s.duration_s is None else a + s.duration_s
    elif p.kind is Kind.ABSOLUTE:
        assert s.start_schedule is not None
        a = epoch(s.start_schedule)
        yield a, FOREVER if s.duration_s is None else a + s.duration_s
    else:
        assert s.start_schedule is not None
        period = WEEK_S if p.recurrency is Recurrency.WEEKLY else DAY_S
        length = period if s.duration_s is None else min(s.duration_s, period)
        first = epoch(s.start_schedule)
        k = max(0, (lo - first) // period)
        while (a := first + k * period) < hi:
            yield a, a + length
            k += 1


def profile_segments(
    ip: InstalledProfile, tx: Transaction | None, lo: int, hi: int
) -> list[Segment]:
    """Where, inside [lo, hi), the profile is defined and with which limit."""
    p = ip.profile
    if p.valid_from is not None:
        lo = max(lo, epoch(p.valid_from))
    if p.valid_to is not None:
        hi = min(hi, epoch(p.valid_to))
    if lo >= hi:
        return []
    periods = p.schedule.periods
    starts = [x.start_s for x in periods]
    source = ProfileSource(p.profile_id, p.purpose.value, p.stack_level, ip.connector_id)
    out: list[Segment] = []
    for a, end in _occurrences(ip, tx, lo, hi):
        w_lo, w_hi = max(lo, a), min(hi, end)
        if w_lo >= w_hi:
            continue
        i = max(0, bisect_right(starts, w_lo - a) - 1)
        while i < len(periods):
            ps = a + periods[i].start_s
            if ps >= w_hi:
                break
            pe = a + periods[i + 1].start_s if i + 1 < len(periods) else end
            seg_lo, seg_hi = max(ps, w_lo), min(pe, w_hi)
            if seg_lo < seg_hi:
                x = periods[i]
                out.append(
                    Segment(seg_lo, seg_hi, x.limit, p.schedule.unit, x.number_phases, source)
                )
            i += 1
    return out


def paint(layers: Iterable[Sequence[Segment]], lo: int, hi: int) -> list[Segment]:
    """Lay the layers down in order; every instant keeps the first layer defined there."""
    gaps = [(lo, hi)]
    out: list[Segment] = []
    for segs in layers:
        if not gaps:
            break
        if not segs:
            continue
        new_gaps: list[tuple[int, int]] = []
        i = 0
        for gs, ge in gaps:
            cur = gs
            while i < len(segs) and segs[i].end <= gs:
                i += 1
            j = i
            while j < len(segs) and segs[j].start < ge:
                s = segs[j]
                a, b = max(s.start, cur), min(s.end, ge)
                if a < b:
                    if a > cur:
                        new_gaps.append((cur, a))
                    out.append(Segment(a, b, s.limit, s.unit, s.phases, s.source))
                    cur = b
                j += 1
            if cur < ge:
                new_gaps.append((cur, ge))
        gaps = new_gaps
    out.sort(key=lambda s: s.start)
    return out


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
