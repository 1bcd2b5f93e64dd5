"""The smart-charging domain: profiles, schedules and limits as typed, immutable values.

OCPP hands us profiles as JSON in two shapes (camelCase on the wire, snake_case dicts with
`Decimal` numbers from the `ocpp` library); `convert` turns both into these values once, so the
evaluator never sees a dict, a string date or a Decimal. All datetimes are aware UTC with whole
seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Purpose(StrEnum):
    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class Recurrency(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class RateUnit(StrEnum):
    A = "A"
    W = "W"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    duration_s: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    profile_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: ChargingSchedule
    transaction_id: int | None = None
    recurrency: Recurrency | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    connector_id: int
    profile: ChargingProfile
    installed_at: datetime


@dataclass(frozen=True, slots=True)
class Transaction:
    """What the engine needs of a running transaction: its anchor for Relative schedules."""

    connector_id: int
    transaction_id: int | None
    start: datetime


@dataclass(frozen=True, slots=True)
class SmartChargingConfig:
    voltage_v: float = 230.0
    phases: int = 3
    number_of_connectors: int = 1
    max_current_a: float = 32.0
    max_power_w: float = 22080.0
    max_stack_level: int = 10
    allowed_units: tuple[str, ...] = ("Current", "Power")
    max_periods: int = 24
    max_profiles: int = 10

    def unit_allowed(self, unit: RateUnit) -> bool:
        return ("Current" if unit is RateUnit.A else "Power") in self.allowed_units


@dataclass(frozen=True, slots=True)
class ProfileSource:
    """Which profile sets a limit."""

    profile_id: int
    purpose: str
    stack_level: int
    connector_id: int


@dataclass(frozen=True, slots=True)
class Limit:
    """The limit in force on a connector at an instant; `value` None = nothing limits."""

    value: float | None
    unit: str
    source: ProfileSource | None
    next_change: datetime | None = None
    number_phases: int | None = None
    """The period's numberPhases, None when the profile does not say."""


@dataclass(frozen=True, slots=True)
class SetResult:
    """The answer to a SetChargingProfile (or a RemoteStart's profile).

    `call_error` is an OCPP error code when the request must be answered with a CALLERROR
    instead of a status; `reason` says why in words, for logs and `chargectl replay`.
    """

    status: str
    reason: str = ""
    call_error: str | None = None
    profile: ChargingProfile | None = field(default=None, compare=False)

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted" and self.call_error is None
