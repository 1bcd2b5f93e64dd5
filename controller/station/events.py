"""The station's event stream: what happened, by kind, for any protocol adapter to translate.

Listeners are called synchronously, in subscription order, and must not block: an adapter that
needs I/O queues it (the OCPP adapter writes its messages to its durable queue).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from controller.station.model import TransactionInfo

log = logging.getLogger(__name__)


class EventKind(StrEnum):
    TRANSACTION_STARTED = "transaction_started"
    TRANSACTION_CONFIRMED = "transaction_confirmed"  # the central system gave it an id
    TRANSACTION_STOPPED = "transaction_stopped"
    AVAILABILITY_CHANGED = "availability_changed"
    CONNECTOR_CHANGED = "connector_changed"  # anything a connector status derives from
    AUTHORIZATION_EXPIRED = "authorization_expired"  # ConnectionTimeOut passed without a start


class StopReason(StrEnum):
    """Why a transaction ended; the values are OCPP 1.6's words, which 2.0.1 shares."""

    LOCAL = "Local"
    REMOTE = "Remote"
    EV_DISCONNECTED = "EVDisconnected"
    POWER_LOSS = "PowerLoss"
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    UNLOCK_COMMAND = "UnlockCommand"
    DEAUTHORIZED = "DeAuthorized"


@dataclass(frozen=True, slots=True)
class StationEvent:
    kind: EventKind
    connector_id: int
    transaction: TransactionInfo | None = None
    reason: StopReason | None = None
    meter_stop_wh: float | None = None


Listener = Callable[[StationEvent], None]


class Events:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, event: StationEvent) -> None:
        for listener in self._listeners:
            listener(event)
