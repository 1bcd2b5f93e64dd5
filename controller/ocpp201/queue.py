"""The durable queue of 2.0.1 messages: the 1.6 adapter's queue (`OcppDb`: SQLite, one commit
per change, delivered in order and removed only once answered), holding TransactionEvents.

What 2.0.1 adds is `seqNo`: 0 for a transaction's first message, one more for each after it,
without gaps (OCPP 2.0.1 part 2, §1.3.2.1). The next number is stored beside the queue and
moved on in the same commit as the message that takes it, so a crash can neither reuse a
number nor skip one. The file is its own (`ocpp201.sqlite`): a 1.6 row is never sent as 2.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from controller.ocpp.outbox import OcppDb, _register_statement
from controller.ocpp.queue_layout import StoredTransaction, insert_transaction, restored, stored
from controller.station import StopReason, TransactionInfo

TRANSACTION_EVENT = "TransactionEvent"


def _seq_key(tx_key: str) -> str:
    return f"_seq_no.{tx_key}"


class EventDb(OcppDb):
    version = "2.0.1"

    def next_seq_no(self, tx_key: str) -> int:
        return int(self.config_items().get(_seq_key(tx_key), "0"))

    def _event_statements(
        self, tx_key: str, payload: dict[str, Any]
    ) -> list[tuple[str, tuple[Any, ...]]]:
        seq_no = self.next_seq_no(tx_key)
        return [
            (
                "INSERT INTO outbox (action, payload, tx_key) VALUES (?, ?, ?)",
                (TRANSACTION_EVENT, json.dumps({**payload, "seq_no": seq_no}), tx_key),
            ),
            ("INSERT OR REPLACE INTO config VALUES (?, ?)", (_seq_key(tx_key), str(seq_no + 1))),
        ]

    def enqueue_event(
        self, tx_key: str, payload: dict[str, Any], register: tuple[int, float] | None = None
    ) -> None:
        """Queue an Updated TransactionEvent with the transaction's next seqNo."""
        statements = self._event_statements(tx_key, payload)
        if register is not None:
            statements.append(_register_statement(*register))
        self._tx(statements)

    def open_event(self, tx: StoredTransaction, payload: dict[str, Any]) -> None:
        """Record the transaction and queue its Started event (seqNo 0) in one commit."""
        self._tx(
            [
                _register_statement(tx.connector_id, tx.meter_start_wh, only_up=False),
                insert_transaction(tx),
                *self._event_statements(tx.tx_key, payload),
            ]
        )

    def close_event(
        self, tx_key: str, payload: dict[str, Any], register: tuple[int, float]
    ) -> None:
        """Mark it closed and queue its Ended event in one commit."""
        self._tx(
            [
                _register_statement(*register),
                ("UPDATE transactions SET open = 0 WHERE tx_key = ?", (tx_key,)),
                *self._event_statements(tx_key, payload),
            ]
        )

    def forget_closed(self) -> None:
        super().forget_closed()
        keys = [k for k in self.config_items() if k.startswith("_seq_no.")]
        with self._lock:
            live = {r[0] for r in self._db.execute("SELECT tx_key FROM transactions").fetchall()}
        gone = [k for k in keys if k.removeprefix("_seq_no.") not in live]
        if gone:
            self._tx([("DELETE FROM config WHERE key = ?", (k,)) for k in gone])

    def events_queued(self, tx_key: str | None = None) -> int:
        """TransactionEvents not yet answered (GetTransactionStatus's messagesInQueue)."""
        sql = "SELECT COUNT(*) FROM outbox WHERE action = ?"
        args: tuple[Any, ...] = (TRANSACTION_EVENT,)
        if tx_key is not None:
            sql, args = sql + " AND tx_key = ?", (*args, tx_key)
        with self._lock:
            return int(self._db.execute(sql, args).fetchone()[0])


# What the adapter says about a start and an end; the journal only stores it.
StartedPayload = Callable[[TransactionInfo], dict[str, Any]]
EndedPayload = Callable[[TransactionInfo, float, StopReason, datetime], dict[str, Any]]


class EventJournal:
    """The station's `TransactionJournal` on the 2.0.1 queue: a transaction's record and its
    Started or Ended event are one commit."""

    def __init__(self, db: EventDb, started: StartedPayload, ended: EndedPayload) -> None:
        self._db = db
        self._started = started
        self._ended = ended

    def stored_open(self) -> list[TransactionInfo]:
        # 2.0.1 ids are ours (the key): a stored record never has the central system's number.
        return [restored(t) for t in self._db.open_transactions()]

    def record_start(self, tx: TransactionInfo) -> None:
        self._db.open_event(stored(tx), self._started(tx))

    def record_id(self, tx_key: str, transaction_id: int) -> None:
        """2.0.1 ids are ours from the start: the CSMS never assigns one."""

    def record_stop(
        self,
        tx: TransactionInfo,
        meter_stop_wh: float,
        reason: StopReason,
        at: datetime,
        stop_id_tag: str | None = None,  # 1.6 names the card that stopped; Ended does not yet
    ) -> None:
        payload = self._ended(tx, meter_stop_wh, reason, at)
        self._db.close_event(tx.tx_key, payload, (tx.connector_id, meter_stop_wh))
