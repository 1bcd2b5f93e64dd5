"""Which profiles the charger accepts: OCPP 1.6 §3.13, §5.16 and the errata, as pure checks.

Every refusal carries its reason. Where the specification leaves room, the choice and its
reason are in docs/smart-charging.md (rule numbers R1..R58 refer to that table).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from controller.smart_charging.model import (
    ChargingProfile,
    InstalledProfile,
    Kind,
    Purpose,
    SetResult,
    SmartChargingConfig,
    Transaction,
)


def _rejected(reason: str) -> SetResult:
    return SetResult("Rejected", reason)


def check_connector(connector_id: int, config: SmartChargingConfig) -> SetResult | None:
    if not 0 <= connector_id <= config.number_of_connectors:
        # R1: errata 3.39 asks for a CALLERROR for a connector that does not exist.
        return SetResult(
            "Rejected",
            f"connector {connector_id} does not exist (0..{config.number_of_connectors})",
            call_error="PropertyConstraintViolation",
        )
    return None


def check_schedule(p: ChargingProfile, config: SmartChargingConfig) -> SetResult | None:
    """R6-R12: limits of the configuration and the sanity of the schedule itself."""
    s = p.schedule
    if not 0 <= p.stack_level <= config.max_stack_level:
        return _rejected(
            f"stackLevel {p.stack_level} outside 0..{config.max_stack_level} "
            "(ChargeProfileMaxStackLevel)"
        )
    if not config.unit_allowed(s.unit):
        return _rejected(
            f"chargingRateUnit {s.unit.value} not allowed by "
            f"ChargingScheduleAllowedChargingRateUnit = {','.join(config.allowed_units)}"
        )
    if len(s.periods) > config.max_periods:
        return _rejected(
            f"{len(s.periods)} periods, more than ChargingScheduleMaxPeriods = {config.max_periods}"
        )
    if s.periods[0].start_s != 0:
        return _rejected("the first chargingSchedulePeriod must have startPeriod 0")
    for a, b in pairwise(s.periods):
        if b.start_s <= a.start_s:
            return _rejected(f"startPeriod must increase strictly ({a.start_s} then {b.start_s})")
    for x in s.periods:
        if x.limit < 0:
            return _rejected(f"negative limit {x.limit}")
        if x.number_phases is not None and not 1 <= x.number_phases <= 3:
            return _rejected(f"numberPhases {x.number_phases} outside 1..3")
    if s.duration_s is not None and s.duration_s < 0:
        return _rejected(f"negative duration {s.duration_s}")
    if s.min_charging_rate is not None and s.min_charging_rate < 0:
        return _rejected(f"negative minChargingRate {s.min_charging_rate}")
    if p.kind is Kind.RECURRING and (p.recurrency is None or s.start_schedule is None):
        return _rejected("a Recurring profile needs recurrencyKind and startSchedule")
    if p.valid_from is not None and p.valid_to is not None and p.valid_to <= p.valid_from:
        return _rejected("validTo is not after validFrom")
    return None


def check_set(
    connector_id: int,
    p: ChargingProfile,
    config: SmartChargingConfig,
    transaction: Transaction | None,
    installed_after: int,
) -> SetResult:
    """SetChargingProfile.req. `installed_after` counts profiles once this one is stored."""
    if (err := check_connector(connector_id, config)) is not None:
        return err
    if p.purpose is Purpose.CHARGE_POINT_MAX:
        if connector_id != 0:
            return _rejected("ChargePointMaxProfile is only allowed on connector 0")
        if p.kind is Kind.RELATIVE:
            return _rejected("ChargePointMaxProfile cannot be Relative (no transaction to anchor)")
        if p.kind is Kind.ABSOLUTE and p.schedule.start_schedule is None:
            return _rejected("an Absolute ChargePointMaxProfile needs startSchedule")
    if p.purpose is Purpose.TX:
        if connector_id == 0:
            return _rejected("TxProfile is only allowed on a connector > 0")
        if transaction is None:
            return _rejected(f"no transaction is running on connector {connector_id}")
        # While the StartTransaction.conf is still on its way, the id the CSMS quotes can only
        # be the one it just assigned to this connector's transaction: accept it (and check it
        # once the id is known, see ProfileStore.transaction_id_assigned).
        known = transaction.transaction_id is not None
        if (
            known
            and p.transaction_id is not None
            and p.transaction_id != transaction.transaction_id
        ):
            return _rejected(
                f"transactionId {p.transaction_id} is not the running transaction "
                f"({transaction.transaction_id})"
            )
    elif p.transaction_id is not None:
        return _rejected("transactionId is only allowed in a TxProfile")
    if (err := check_schedule(p, config)) is not None:
        return err
    if installed_after > config.max_profiles:
        return _rejected(
            f"MaxChargingProfilesInstalled = {config.max_profiles} profiles already installed"
        )
    return SetResult("Accepted", "", profile=p)


def check_remote_start(
    connector_id: int | None, p: ChargingProfile, config: SmartChargingConfig
) -> SetResult:
    """R14: the profile of a RemoteStartTransaction.req."""
    if connector_id is None or connector_id == 0:
        return _rejected("a RemoteStartTransaction with a chargingProfile needs a connectorId > 0")
    if (err := check_connector(connector_id, config)) is not None:
        return err
    if p.purpose is not Purpose.TX:
        return _rejected("the chargingProfile of a RemoteStartTransaction must be a TxProfile")
    if p.transaction_id is not None:
        return _rejected(
            "the chargingProfile of a RemoteStartTransaction must not set transactionId"
        )
    if (err := check_schedule(p, config)) is not None:
        return err
    return SetResult("Accepted", "", profile=p)


def replaced_by(
    installed: Mapping[int, InstalledProfile], connector_id: int, p: ChargingProfile
) -> list[int]:
    """R15 same id anywhere; R16 same stack level and purpose on the same connector."""
    return [
        pid
        for pid, ip in installed.items()
        if pid == p.profile_id
        or (
            ip.connector_id == connector_id
            and ip.profile.stack_level == p.stack_level
            and ip.profile.purpose is p.purpose
        )
    ]


def cleared_by(
    installed: Mapping[int, InstalledProfile],
    profile_id: int | None,
    connector_id: int | None,
    purpose: str | None,
    stack_level: int | None,
) -> list[int]:
    """R50/R51: a ClearChargingProfile's `id` alone selects; otherwise an AND of the filters."""
    if profile_id is not None:
        return [profile_id] if profile_id in installed else []
    return [
        pid
        for pid, ip in installed.items()
        if (connector_id is None or ip.connector_id == connector_id)
        and (purpose is None or ip.profile.purpose.value == purpose)
        and (stack_level is None or ip.profile.stack_level == stack_level)
    ]
