"""The station model: connectors, transactions, authorization and availability, no protocol.

Protocol adapters (OCPP 1.6 in `controller.ocpp`, a later 2.0.1) and the dashboard build on
this package and never the other way round: nothing here imports `controller.ocpp`.

Public interface
----------------
`Hardware` (model)
    What the daemon offers: `connector_ids`, `snapshot(cid) -> ConnectorSnapshot`,
    `unlock_connector`, `reset`, `set_operative`.
`TransactionBook` (transactions)
    The one owner of open transactions (`TransactionInfo`). `start(tx)`, `confirm(tx_key, id)`,
    `stop(cid, StopReason, meter_stop_wh, at)`, `get(cid)`, `by_transaction_id(id)`,
    `restore(connector_ids)`. Persistence goes through a `TransactionJournal`, one commit per
    change, in which the adapter also queues its own messages: state is persisted once. Nobody
    else stores a copy: the profile store (`controller.smart_charging`) is told the restored
    transactions at start-up (`ProfileStore.restore_transactions`) and each start, id and stop
    afterwards, and keeps in its own file only which TxProfile belongs to which transaction id.
`ConnectorStates` (connectors)
    Availability (`operative`, `set_operative`, a `schedule`d change waiting for the session to
    end), `finishing` (stopped, car still plugged in) and short-lived `Authorization`s
    (`authorize`, `authorization(cid, now_mono)`, `consume`); `StartGate`s added with
    `add_gate` are consulted (`admits`) before any start.
`Events` / `StationEvent` / `EventKind` (events)
    A synchronous stream of what happened; `StopReason` says why a session ended.

Where to extend
---------------
* Local authorization and reservations are built on this model in `controller.auth` (pure:
  the decision, the local list, the cache, `Reservations` as a `StartGate`); the OCPP
  adapter's `Cards.present` (`ocpp/cards.py`) is where a card is presented and the central
  system asked. Another gate (a main-fuse guard, say) is added the same way.
* OCPP 2.0.1: a second adapter subscribing to `Events` and translating `TransactionInfo` into
  TransactionEvent messages; `StopReason` values are shared by both versions.
"""

from controller.station.connectors import ConnectorStates, KeyValueStore, StartGate
from controller.station.events import EventKind, Events, StationEvent, StopReason
from controller.station.model import (
    Authorization,
    ConnectorSnapshot,
    Hardware,
    TransactionInfo,
)
from controller.station.transactions import TransactionBook, TransactionJournal

__all__ = [
    "Authorization",
    "ConnectorSnapshot",
    "ConnectorStates",
    "EventKind",
    "Events",
    "Hardware",
    "KeyValueStore",
    "StartGate",
    "StationEvent",
    "StopReason",
    "TransactionBook",
    "TransactionInfo",
    "TransactionJournal",
]
