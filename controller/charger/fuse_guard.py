"""The main-fuse guard: keep every phase of the house connection under the main fuse.

The grid meter at the house connection sees the house and our cars together. What the house
draws on each phase (the baseload) is the grid current minus what our own connectors draw on
that phase; the headroom of a phase is the fuse, minus a margin, minus that baseload. A
connector may take the smallest headroom among the grid phases its car uses, shared equally
with the other connectors on the same phase. Working per phase, not on summed power, is the
point: a one-phase car on the loaded phase trips that fuse while the three-phase sum looks fine.

Decreases apply at once (the next reading after a load step); increases wait until the headroom
has stayed at least that large for `increase_after_s`, so a car does not see a saw-tooth when a
cooker cycles. A meter that has said nothing for `silent_after_s` gives the fallback current.

Pure: readings, draws and monotonic time in; a cap per connector and its explanation out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

PHASE_NAMES = ("L1", "L2", "L3")


@dataclass(frozen=True, slots=True)
class FuseGuardConfig:
    main_fuse_a: float
    """The main fuse per phase."""
    margin_a: float = 1.0
    """Kept free under the fuse: meter error, loads that start between two readings."""
    silent_after_s: float = 10.0
    """No grid reading for this long: every connector gets `fallback_current_a`."""
    fallback_current_a: float = 6.0
    """Per connector while the grid meter is silent; 0 pauses."""
    increase_after_s: float = 30.0
    """Headroom must last this long before an offer is raised."""
    min_current_a: float = 6.0
    """The least current a car can use: shares of a phase are not cut below it."""

    def __post_init__(self) -> None:
        for name in ("main_fuse_a", "margin_a", "silent_after_s", "fallback_current_a"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.margin_a >= self.main_fuse_a:
            raise ValueError(
                f"margin_a ({self.margin_a:g} A) must be smaller than the main fuse "
                f"({self.main_fuse_a:g} A)"
            )


@dataclass(frozen=True, slots=True)
class GridReading:
    """Per-phase current at the house connection, import positive, export negative."""

    current_a: tuple[float, float, float]
    at_s: float
    """Monotonic time of the reading."""


@dataclass(frozen=True, slots=True)
class OwnDraw:
    """One connector as the guard sees it: the grid phases its car uses and what it draws.

    `grid_phases` are indexes 0..2 (L1..L3) in the order of the car's phases, already cut to
    the number of phases in use. `drawn_a` is the current per phase the car draws now.
    """

    connector_id: int
    grid_phases: tuple[int, ...]
    drawn_a: float


class FuseLimitKind(StrEnum):
    PHASE = "phase"  # a phase of the house connection is the limit
    HOLDING = "holding"  # there is headroom again, but it has not lasted long enough yet
    SILENT = "meter_silent"  # no grid reading for too long: the fallback current
    NO_READING = "no_reading"  # no grid reading since start: the fallback current


@dataclass(frozen=True, slots=True)
class FuseLimit:
    """The guard's cap on one connector and why, for `status`, the dashboard and the logs."""

    cap_a: float
    kind: FuseLimitKind
    fuse_a: float
    phase: int | None = None
    """The grid phase (0..2) with the least headroom for this connector."""
    phase_current_a: float | None = None
    """What the grid meter measured on that phase."""
    silent_s: float | None = None
    rise_in_s: float | None = None
    """While holding: how long the headroom must still last before the offer rises."""

    def text(self) -> str:
        where = ""
        if self.phase is not None:
            measured = self.phase_current_a or 0.0
            where = f"main fuse: {PHASE_NAMES[self.phase]} at {measured:.1f} A of {self.fuse_a:g} A"
        if self.kind is FuseLimitKind.PHASE and where:
            return where
        if self.kind is FuseLimitKind.HOLDING and where:
            return f"{where}, holding {self.cap_a:g} A for {self.rise_in_s or 0.0:.0f} s more"
        if self.kind is FuseLimitKind.SILENT:
            return (
                f"main fuse: grid meter silent for {self.silent_s or 0.0:.0f} s, "
                f"fallback {self.cap_a:g} A"
            )
        return f"main fuse: no grid reading yet, fallback {self.cap_a:g} A"


@dataclass(slots=True)
class _Hold:
    applied_a: float
    higher_since_s: float | None = None
    lowest_higher_a: float = math.inf


@dataclass(slots=True)
class FuseGuard:
    """Keeps, per connector, the cap last given and how long more headroom has lasted."""

    config: FuseGuardConfig
    _holds: dict[int, _Hold] = field(default_factory=dict)

    def caps(
        self, reading: GridReading | None, draws: Sequence[OwnDraw], now_s: float
    ) -> dict[int, FuseLimit]:
        cfg = self.config
        if reading is None or now_s - reading.at_s > cfg.silent_after_s:
            # Start over after the meter comes back: the first reading then lowers or holds.
            self._holds.clear()
            kind = FuseLimitKind.NO_READING if reading is None else FuseLimitKind.SILENT
            silent = None if reading is None else now_s - reading.at_s
            return {
                d.connector_id: FuseLimit(
                    cfg.fallback_current_a, kind, cfg.main_fuse_a, None, None, silent
                )
                for d in draws
            }
        raw = raw_caps(cfg, reading.current_a, draws)
        out: dict[int, FuseLimit] = {}
        for d in draws:
            cap_a, phase = raw[d.connector_id]
            applied = self._smooth(d.connector_id, cap_a, now_s)
            hold = self._holds[d.connector_id]
            if hold.higher_since_s is None:
                out[d.connector_id] = FuseLimit(
                    applied, FuseLimitKind.PHASE, cfg.main_fuse_a, phase, reading.current_a[phase]
                )
            else:
                left = cfg.increase_after_s - (now_s - hold.higher_since_s)
                out[d.connector_id] = FuseLimit(
                    applied,
                    FuseLimitKind.HOLDING,
                    cfg.main_fuse_a,
                    phase,
                    reading.current_a[phase],
                    rise_in_s=max(0.0, left),
                )
        for cid in set(self._holds) - set(out):
            del self._holds[cid]
        return out

    def _smooth(self, connector_id: int, cap_a: float, now_s: float) -> float:
        hold = self._holds.get(connector_id)
        if hold is None or cap_a <= hold.applied_a:
            # First reading, or less headroom: take it at once.
            self._holds[connector_id] = _Hold(cap_a)
            return cap_a
        if hold.higher_since_s is None:
            hold.higher_since_s = now_s
            hold.lowest_higher_a = cap_a
        hold.lowest_higher_a = min(hold.lowest_higher_a, cap_a)
        if now_s - hold.higher_since_s >= self.config.increase_after_s - 1e-9:
            # Raise to what was available the whole time, not to the latest peak.
            self._holds[connector_id] = _Hold(hold.lowest_higher_a)
        return self._holds[connector_id].applied_a


def raw_caps(
    config: FuseGuardConfig, grid_a: tuple[float, float, float], draws: Sequence[OwnDraw]
) -> Mapping[int, tuple[float, int]]:
    """Without hysteresis: each connector's cap and the grid phase that sets it."""
    own = [0.0, 0.0, 0.0]
    on_phase: list[list[int]] = [[], [], []]
    for d in sorted(draws, key=lambda d: d.connector_id):
        for p in d.grid_phases:
            own[p] += max(0.0, d.drawn_a)
            on_phase[p].append(d.connector_id)
    headroom = [config.main_fuse_a - config.margin_a - (grid_a[p] - own[p]) for p in range(3)]
    shares = [_phase_shares(headroom[p], on_phase[p], config.min_current_a) for p in range(3)]
    out: dict[int, tuple[float, int]] = {}
    for d in draws:
        phases = d.grid_phases or (0, 1, 2)
        per = {p: shares[p].get(d.connector_id, headroom[p]) for p in phases}
        phase = min(phases, key=lambda p: (per[p], p))
        out[d.connector_id] = (_floor_tenth(max(0.0, per[phase])), phase)
    return out


def _phase_shares(headroom_a: float, connectors: Sequence[int], min_a: float) -> dict[int, float]:
    """Equal shares of one phase's headroom; when an equal share would not reach the minimum
    a car can use, the lowest connector ids get usable shares and the others none (better one
    car charging than two paused)."""
    n = len(connectors)
    if n == 0:
        return {}
    usable = n if headroom_a / n >= min_a else max(1, math.floor(headroom_a / min_a + 1e-9))
    share = headroom_a / usable
    return {cid: (share if i < usable else 0.0) for i, cid in enumerate(connectors)}


def cap_on_phases(
    config: FuseGuardConfig,
    grid_a: tuple[float, float, float],
    draws: Sequence[OwnDraw],
    connector_id: int,
    phases: tuple[int, ...],
) -> float:
    """What `connector_id` could take if its car used the grid `phases` instead (no hysteresis):
    the baseload is measured with the phases in use now, the headroom read on the others."""
    own = [0.0, 0.0, 0.0]
    others = [0, 0, 0]
    for d in draws:
        for p in d.grid_phases:
            own[p] += max(0.0, d.drawn_a)
            if d.connector_id != connector_id:
                others[p] += 1
    per = [
        (config.main_fuse_a - config.margin_a - (grid_a[p] - own[p])) / (others[p] + 1)
        for p in range(3)
    ]
    return _floor_tenth(max(0.0, min(per[p] for p in phases)))


def parse_rotation(rotation: str) -> tuple[int, ...]:
    """'L2L3L1' -> (1, 2, 0); 'L2' (a one-phase connector on L2) -> (1,)."""
    text = rotation.strip().upper()
    if len(text) % 2 or not text:
        raise ValueError(f"phase rotation {rotation!r}: write it as L1L2L3, L2L3L1 or L2")
    names = [text[i : i + 2] for i in range(0, len(text), 2)]
    if any(n not in PHASE_NAMES for n in names) or len(set(names)) != len(names):
        raise ValueError(f"phase rotation {rotation!r}: each of L1, L2, L3 at most once")
    if len(names) not in (1, 3):
        raise ValueError(f"phase rotation {rotation!r}: one phase or all three")
    return tuple(PHASE_NAMES.index(n) for n in names)


def grid_phases(rotation: tuple[int, ...], phases_in_use: int) -> tuple[int, ...]:
    """The grid phases a car charging on `phases_in_use` phases loads (its L1 first)."""
    return rotation[: max(1, min(phases_in_use, len(rotation)))]


def _floor_tenth(value_a: float) -> float:
    return math.floor(value_a * 10 + 1e-9) / 10
