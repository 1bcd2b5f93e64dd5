"""What each connector is to be offered now: the decision the control loop applies.

Apart from the loop because it is the one place where every limit meets (the smart-charging
limit, the local cap, the ratings, the cable, the main-fuse guard, the station's supply shared
between sessions) and it does no I/O: the loop polls and writes, this decides. The binding
limit's source is kept on each unit for people reading `status`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

from controller.charger.binding import LimitSource, binding
from controller.charger.main_fuse import MainFuse
from controller.charger.phase_wiring import (
    choose_all_phases,
    fuse_caps,
    per_phase_limit_a,
    phases_in_use,
)
from controller.charger.sharing import Demand, share_station_limit
from controller.charger.unit import ConnectorUnit
from controller.smart_charging import ProfileStore
from hw.clock import Clock


def offered_targets(
    units: Sequence[ConnectorUnit],
    profiles: ProfileStore,
    now: datetime,
    clock: Clock,
    *,
    permit: Callable[[int], bool],
    held_back: Callable[[int], LimitSource | None] = lambda _cid: None,
    session_start: Callable[[int], datetime | None],
    local_cap_a: Callable[[int], float | None],
    main_fuse: MainFuse | None,
    station_max_a: float | None,
    min_current_a: float,
) -> dict[int, float]:
    """The current each connector is to be offered now (0.0 = paused). `held_back` names
    why a connector with a session is not permitted, when that is not just "no transaction"."""
    by_id = {u.connector_id: u for u in units}
    wanted: dict[int, float] = {}
    demands: list[Demand] = []
    fuse = fuse_caps(main_fuse, units)
    for u in units:
        limit = profiles.limit_at(u.connector_id, now, "A")
        u.limit = limit
        caps: list[tuple[float, LimitSource]] = []
        local = local_cap_a(u.connector_id)
        if local is not None:
            caps.append((local, LimitSource.LOCAL_CAP))
        profile_a = per_phase_limit_a(limit, profiles, u.connector_id, phases_in_use(u.driver))
        if profile_a is not None:
            caps.append((profile_a, LimitSource.PROFILE))
        caps += [
            (u.max_current_a, LimitSource.RATING),
            (u.driver.capabilities.max_current_a, LimitSource.DRIVER),
        ]
        if u.status is not None and u.status.cable_max_a is not None:
            caps.append((u.status.cable_max_a, LimitSource.CABLE))
        u.fuse_limit = fuse.get(u.connector_id)
        if u.fuse_limit is not None:
            caps.append((u.fuse_limit.cap_a, LimitSource.MAIN_FUSE))
        cap, u.limit_source = binding(caps)
        permitted = u.operative and permit(u.connector_id)
        if not permitted:
            why = held_back(u.connector_id) if u.operative else LimitSource.INOPERATIVE
            u.limit_source = why or LimitSource.NO_TRANSACTION
        if u.status is not None and u.status.fault is not None:
            permitted = False
            u.limit_source = LimitSource.FAULT
        wanted[u.connector_id] = cap if permitted else 0.0
        if permitted:
            started = session_start(u.connector_id) or now
            demands.append(Demand(u.connector_id, cap, started))
    choose_all_phases(units, main_fuse, min_current_a, clock)
    station = profiles.station_limit_at(now, "A").value
    if station_max_a is not None:
        station = station_max_a if station is None else min(station, station_max_a)
    shares = share_station_limit(station, demands, min_current_a)
    out: dict[int, float] = {}
    for cid, want in wanted.items():
        value = min(want, shares.get(cid, want))
        if value < want:
            by_id[cid].limit_source = LimitSource.SUPPLY_SHARE
        out[cid] = _floor_tenth(value) if value >= min_current_a else 0.0
    return out


def _floor_tenth(value_a: float) -> float:
    return math.floor(value_a * 10 + 1e-9) / 10
