"""The one owner of transaction state.

Open transactions live here in memory and are persisted once, through a `TransactionJournal`,
in the same commit as whatever the protocol adapter must send about them (the OCPP adapter
queues its StartTransaction and StopTransaction in that commit). Nobody else keeps a copy to
re-sync by hand: others subscribe to the station's events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from controller.station.events import EventKind, Events, StationEvent, StopReason
from controller.station.model import TransactionInfo


class TransactionJournal(Protocol):
    """Durable storage of transactions; each call is one commit."""

    def stored_open(self) -> list[TransactionInfo]: ...

    def record_start(self, tx: TransactionInfo) -> None: ...

    def record_id(self, tx_key: str, transaction_id: int) -> None: ...

    def record_stop(
        self,
        tx: TransactionInfo,
        meter_stop_wh: float,
        reason: StopReason,
        at: datetime,
        stop_id_tag: str | None = None,
    ) -> None: ...


class TransactionBook:
    def __init__(self, journal: TransactionJournal, events: Events) -> None:
        self._journal = journal
        self._events = events
        self._open: dict[int, TransactionInfo] = {}

    def restore(self, connector_ids: set[int]) -> list[TransactionInfo]:
        """Load the transactions open at the last stop; those of unknown connectors stay stored
        as they are (a configuration mistake must not close a paying session)."""
        restored = []
        for tx in self._journal.stored_open():
            if tx.connector_id in connector_ids:
                self._open[tx.connector_id] = tx
                restored.append(tx)
        return restored

    def get(self, connector_id: int) -> TransactionInfo | None:
        return self._open.get(connector_id)

    def __contains__(self, connector_id: object) -> bool:
        return connector_id in self._open

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._open))

    def items(self) -> list[tuple[int, TransactionInfo]]:
        return list(self._open.items())

    def by_transaction_id(self, transaction_id: int) -> int | None:
        for cid, tx in self._open.items():
            if tx.transaction_id == transaction_id:
                return cid
        return None

    def start(self, tx: TransactionInfo) -> None:
        if tx.connector_id in self._open:
            raise ValueError(f"connector {tx.connector_id} already has a transaction")
        self._journal.record_start(tx)
        self._open[tx.connector_id] = tx
        self._events.emit(StationEvent(EventKind.TRANSACTION_STARTED, tx.connector_id, tx))

    def confirm(self, tx_key: str, transaction_id: int) -> list[TransactionInfo]:
        """The central system's id for a transaction (open or already stopped)."""
        self._journal.record_id(tx_key, transaction_id)
        confirmed = []
        for cid, tx in list(self._open.items()):
            if tx.tx_key == tx_key:
                self._open[cid] = replace(tx, transaction_id=transaction_id)
                confirmed.append(self._open[cid])
                self._events.emit(
                    StationEvent(EventKind.TRANSACTION_CONFIRMED, cid, self._open[cid])
                )
        return confirmed

    def stop(
        self,
        connector_id: int,
        reason: StopReason,
        meter_stop_wh: float,
        at: datetime,
        stop_id_tag: str | None = None,
    ) -> TransactionInfo | None:
        """`stop_id_tag`: the card that ended it, when another than the one that started it."""
        tx = self._open.get(connector_id)
        if tx is None:
            return None
        self._journal.record_stop(tx, meter_stop_wh, reason, at, stop_id_tag)
        del self._open[connector_id]
        self._events.emit(
            StationEvent(
                EventKind.TRANSACTION_STOPPED, connector_id, tx, reason, meter_stop_wh=meter_stop_wh
            )
        )
        return tx
