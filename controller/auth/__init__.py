"""Local authorization without protocol: idTag information, the local authorization list, the
authorization cache, the local decision and reservations. Pure: time is passed in, nothing
here does I/O or imports `controller.ocpp`.

Public interface
----------------
`IdTagInfo`, `AuthStatus`, `tag_key` (model)
    What a central system says of an idTag; idTags compare case-insensitively (`tag_key`).
`decide` (decide)
    Is a presented tag accepted now, from which source, or must the central system be asked.
`apply_update` (local_list)
    A SendLocalList-style update checked against the version rules and the size limits.
`AuthCache` (cache)
    Every idTagInfo seen, with expiry and eviction (non-valid first, then oldest).
`Reservations`, `Reservation`, `reserve_verdict` (reservations)
    Connectors held for one idTag (or its group) until a time; a `StartGate` of the station.
"""

from controller.auth.cache import AuthCache
from controller.auth.decide import Decision, Policy, Source, Verdict, decide
from controller.auth.local_list import ListUpdate, UpdateKind, UpdateStatus, apply_update
from controller.auth.model import AuthStatus, IdTagInfo, tag_key
from controller.auth.reservations import (
    Reservation,
    Reservations,
    ReserveStatus,
    reserve_verdict,
)

__all__ = [
    "AuthCache",
    "AuthStatus",
    "Decision",
    "IdTagInfo",
    "ListUpdate",
    "Policy",
    "Reservation",
    "Reservations",
    "ReserveStatus",
    "Source",
    "UpdateKind",
    "UpdateStatus",
    "Verdict",
    "apply_update",
    "decide",
    "reserve_verdict",
    "tag_key",
]
