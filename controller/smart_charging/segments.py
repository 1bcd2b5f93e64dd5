"""Where each charging profile is defined, and the layers painted in priority order: the first
two steps of the pure evaluator (see `evaluator`).

Apart from the evaluator because they know the calendar of one profile (its validity, its
schedule window, Absolute, Recurring and Relative anchors, its periods) and nothing of units,
stacks or the composite; the evaluator orders the profiles, converts and meets the layers.
No I/O and no clock; times are integer UTC seconds since the epoch.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from controller.smart_charging.model import (
    InstalledProfile,
    Kind,
    ProfileSource,
    RateUnit,
    Recurrency,
    Transaction,
)

FOREVER = 1 << 62
DAY_S = 86_400
WEEK_S = 7 * DAY_S


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    limit: float
    unit: RateUnit
    phases: int | None
    source: ProfileSource


def epoch(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: the smart-charging engine works in aware UTC")
    return math.floor(dt.timestamp())


def from_epoch(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


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
