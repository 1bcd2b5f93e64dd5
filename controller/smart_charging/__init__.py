"""Smart charging as OCPP 1.6 defines it: the profile store and the composite-schedule evaluator.

`ProfileStore` (store, with its read side in questions) holds the installed profiles in
profiles.sqlite and answers what limits a connector now and over a period. It keeps no
transactions of its own: the station's `TransactionBook` owns them, and the store is told of
them (`restore_transactions` at start-up from the restored book, then `transaction_started`,
`transaction_id_assigned`, `transaction_stopped`), in memory only. Which TxProfile belongs to
which transaction id is the store's business (`tx_profiles`), kept in the profile's stored body.
The evaluator (evaluator, segments) and the rules are pure: no I/O, no clock.
"""

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
