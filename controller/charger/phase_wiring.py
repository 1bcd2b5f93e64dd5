"""Between the loop and a driver that can switch phases: gather the inputs of the pure choice
(`controller.charger.phase_choice`) and hand the answer to the driver, which switches when it
is safe and the rate limit allows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from controller.charger.fuse_guard import FuseLimit
from controller.charger.main_fuse import ConnectorDraw, MainFuse, drawn_a
from controller.charger.phase_choice import PhaseChooser, PhaseInputs, PhaseReason
from controller.smart_charging import Limit, ProfileStore
from controller.smart_charging.model import RateUnit
from hw.base import EvseDriver, PhaseSwitching
from hw.clock import Clock

if TYPE_CHECKING:
    from controller.charger.unit import ConnectorUnit


def phases_in_use(driver: EvseDriver) -> int:
    if isinstance(driver, PhaseSwitching):
        return driver.phases_in_use
    return driver.capabilities.phases


def choose_phases(
    chooser: PhaseChooser,
    driver: PhaseSwitching,
    profile_phases: int | None,
    main_fuse: MainFuse | None,
    draws: Sequence[ConnectorDraw],
    connector_id: int,
    min_current_a: float,
    now_s: float,
) -> tuple[int, PhaseReason]:
    caps = getattr(driver, "capabilities", None)
    can_switch = bool(caps is not None and caps.can_switch_phases)
    hardware = caps.phases if caps is not None else 3
    three = one = None
    if main_fuse is not None:
        three = main_fuse.cap_if(draws, connector_id, 3)
        one = main_fuse.cap_if(draws, connector_id, 1)
    phases, reason = chooser.choose(
        PhaseInputs(
            can_switch=can_switch,
            hardware_phases=hardware,
            phases_in_use=driver.phases_in_use,
            profile_phases=profile_phases,
            fuse_cap_3p_a=three,
            fuse_cap_1p_a=one,
            min_current_a=min_current_a,
        ),
        now_s,
    )
    if can_switch:
        driver.request_phases(phases)
    return phases, reason


def draws(units: Sequence[ConnectorUnit]) -> list[ConnectorDraw]:
    return [
        ConnectorDraw(u.connector_id, phases_in_use(u.driver), drawn_a(u.sample, u.status))
        for u in units
    ]


def fuse_caps(main_fuse: MainFuse | None, units: Sequence[ConnectorUnit]) -> dict[int, FuseLimit]:
    """The main-fuse guard's cap on each connector; none without a grid meter."""
    return {} if main_fuse is None else main_fuse.caps(draws(units))


def choose_all_phases(
    units: Sequence[ConnectorUnit], main_fuse: MainFuse | None, min_current_a: float, clock: Clock
) -> None:
    """Ask every connector that can switch for the phases it should use (after the limits)."""
    now = draws(units)
    for u in units:
        if not isinstance(u.driver, PhaseSwitching):
            continue
        u.phases, u.phase_reason = choose_phases(
            u.phase_chooser,
            u.driver,
            None if u.limit is None else u.limit.number_phases,
            main_fuse,
            now,
            u.connector_id,
            min_current_a,
            clock.monotonic(),
        )


def per_phase_limit_a(
    limit: Limit, profiles: ProfileStore, connector_id: int, phases: int
) -> float | None:
    """The limit in amps for the phases the car really uses.

    A watt limit without `numberPhases` is converted with OCPP's three phases; a car charging on
    one phase may then take three times those amps for the same power. An amp limit applies per
    phase whatever the phases (OCPP 1.6 errata 3.34), and so does a period that names its phases.
    """
    value = limit.value
    if value is None or phases >= 3 or limit.number_phases is not None or limit.source is None:
        return value
    source = limit.source
    for ip in profiles.installed():
        p = ip.profile
        if p.profile_id == source.profile_id and ip.connector_id == source.connector_id:
            if p.schedule.unit is RateUnit.W:
                return math.floor(value * 3 / phases * 10 + 1e-9) / 10
            break
    return value
