"""Smart charging as OCPP 1.6 defines it: the profile store and the composite-schedule evaluator."""

from controller.smart_charging.convert import ProfileFormatError, profile_from_ocpp, profile_to_wire
from controller.smart_charging.model import (
    ChargingProfile,
    ChargingSchedule,
    InstalledProfile,
    Kind,
    Limit,
    ProfileSource,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
    SetResult,
    SmartChargingConfig,
    Transaction,
)
from controller.smart_charging.store import ProfileStore

__all__ = [
    "ChargingProfile",
    "ChargingSchedule",
    "InstalledProfile",
    "Kind",
    "Limit",
    "ProfileFormatError",
    "ProfileSource",
    "ProfileStore",
    "Purpose",
    "RateUnit",
    "Recurrency",
    "SchedulePeriod",
    "SetResult",
    "SmartChargingConfig",
    "Transaction",
    "profile_from_ocpp",
    "profile_to_wire",
]
