"""The persistent queue of transaction messages, and the transactions they belong to.

StartTransaction, StopTransaction and transaction MeterValues are written here (SQLite, WAL,
synchronous=FULL) before anything is sent, and removed only after the CSMS answered. So a
message is delivered in order, once per answer, after a reconnect or a restart; a power cut
between "sent" and "answered" sends it again, which OCPP allows (the CSMS de-duplicates on the
transaction id and timestamp). Until the CSMS has assigned a transactionId, a transaction is
known by its local key; queued messages name the key and get the id when they are sent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.durable import commit, open_durable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    action   TEXT NOT NULL,
    payload  TEXT NOT NULL,
    tx_key   TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS transactions (
    tx_key          TEXT PRIMARY KEY,
    connector_id    INTEGER NOT NULL,
    transaction_id  INTEGER,
    id_tag          TEXT NOT NULL,
    start           TEXT NOT NULL,
    meter_start_wh  REAL NOT NULL,
    open            INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS meter_register (
    connector_id INTEGER PRIMARY KEY,
    energy_wh    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS config (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    action: str
    payload: dict[str, Any]
    tx_key: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    tx_key: str
    connector_id: int
    transaction_id: int | None
    id_tag: str
    start: datetime
    meter_start_wh: float


class OcppDb:
    """One SQLite file for the queue, the transactions and the configuration keys."""

    def __init__(self, path: Path) -> None:
        self._db = open_durable(path, _SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _tx(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            commit(self._db, statements)

    # --- the queue ------------------------------------------------------------------------

    def enqueue(
        self,
        action: str,
        payload: dict[str, Any],
        tx_key: str | None = None,
        register: tuple[int, float] | None = None,
    ) -> None:
        """Queue a message; `register` (connector, Wh) is the energy it reports, kept with it."""
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO outbox (action, payload, tx_key) VALUES (?, ?, ?)",
                (action, json.dumps(payload), tx_key),
            )
        ]
        if register is not None:
            statements.append(_register_statement(*register))
        self._tx(statements)

    def peek(self) -> Queued | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, action, payload, tx_key, attempts FROM outbox ORDER BY seq LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return Queued(row[0], row[1], json.loads(row[2]), row[3], row[4])

    def ack(self, seq: int) -> None:
        self._tx([("DELETE FROM outbox WHERE seq = ?", (seq,))])

    def count_attempt(self, seq: int) -> int:
        self._tx([("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", (seq,))])
        with self._lock:
            row = self._db.execute("SELECT attempts FROM outbox WHERE seq = ?", (seq,)).fetchone()
        return int(row[0]) if row else 0

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # --- transactions ---------------------------------------------------------------------

    def open_transaction(self, tx: StoredTransaction, start_payload: dict[str, Any]) -> None:
        """Record the transaction and queue its StartTransaction in one commit."""
        self._tx(
            [
                # meterStart is the truth at a start: a replaced meter re-bases the register.
                _register_statement(tx.connector_id, tx.meter_start_wh, only_up=False),
                (
                    "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, 1)",
                    (
                        tx.tx_key,
                        tx.connector_id,
                        tx.transaction_id,
                        tx.id_tag,
                        tx.start.isoformat(),
                        tx.meter_start_wh,
                    ),
                ),
                (
                    "INSERT INTO outbox (action, payload, tx_key) VALUES (?, ?, ?)",
                    ("StartTransaction", json.dumps(start_payload), tx.tx_key),
                ),
            ]
        )

    def close_transaction(
        self, tx_key: str, stop_payload: dict[str, Any], register: tuple[int, float]
    ) -> None:
        """Mark it closed and queue its StopTransaction in one commit."""
        self._tx(
            [
                _register_statement(*register),
                ("UPDATE transactions SET open = 0 WHERE tx_key = ?", (tx_key,)),
                (
                    "INSERT INTO outbox (action, payload, tx_key) VALUES (?, ?, ?)",
                    ("StopTransaction", json.dumps(stop_payload), tx_key),
                ),
            ]
        )

    def assign_transaction_id(self, tx_key: str, transaction_id: int) -> None:
        self._tx(
            [
                (
                    "UPDATE transactions SET transaction_id = ? WHERE tx_key = ?",
                    (transaction_id, tx_key),
                )
            ]
        )

    def transaction_id(self, tx_key: str) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT transaction_id FROM transactions WHERE tx_key = ?", (tx_key,)
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def open_transactions(self) -> list[StoredTransaction]:
        with self._lock:
            rows = self._db.execute(
                "SELECT tx_key, connector_id, transaction_id, id_tag, start, meter_start_wh "
                "FROM transactions WHERE open = 1"
            ).fetchall()
        return [
            StoredTransaction(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4]), r[5])
            for r in rows
        ]

    def forget_closed(self) -> None:
        """Closed transactions whose messages are all delivered are no longer needed."""
        self._tx(
            [
                (
                    "DELETE FROM transactions WHERE open = 0 AND tx_key NOT IN "
                    "(SELECT tx_key FROM outbox WHERE tx_key IS NOT NULL)",
                    (),
                )
            ]
        )

    def last_register_wh(self, connector_id: int) -> float | None:
        """The highest energy register this connector ever reported to the CSMS."""
        with self._lock:
            row = self._db.execute(
                "SELECT energy_wh FROM meter_register WHERE connector_id = ?", (connector_id,)
            ).fetchone()
        return None if row is None else float(row[0])

    # --- configuration keys ---------------------------------------------------------------

    def config_items(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM config").fetchall())

    def set_config(self, key: str, value: str) -> None:
        self._tx([("INSERT OR REPLACE INTO config VALUES (?, ?)", (key, value))])


def _register_statement(
    connector_id: int, energy_wh: float, *, only_up: bool = True
) -> tuple[str, tuple[Any, ...]]:
    # Within a transaction a register only grows: a lower value (a meter that restarted at 0
    # after a power cut) never replaces a higher one.
    new = "max(energy_wh, excluded.energy_wh)" if only_up else "excluded.energy_wh"
    return (
        "INSERT INTO meter_register (connector_id, energy_wh) VALUES (?, ?) "
        f"ON CONFLICT (connector_id) DO UPDATE SET energy_wh = {new}",
        (connector_id, energy_wh),
    )
