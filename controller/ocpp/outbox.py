"""The persistent queue of transaction messages, and the transactions they belong to.

StartTransaction, StopTransaction and transaction MeterValues are written here (SQLite, rollback
journal, synchronous=FULL; the fsync on a writer thread, see `durable.MirroredDb`, and the
session sends nothing before it returned) before anything is sent, and removed only after the
CSMS answered. So a message is delivered in order, once per answer, after a reconnect or a
restart; a power cut between "sent" and "answered" sends it again, which OCPP allows (the
CSMS de-duplicates on the transaction id and timestamp). Until the CSMS has assigned a
transactionId, a transaction is known by its local key; queued messages name the key and get
the id when they are sent.

A row that cannot be sent as it stands (unreadable JSON, an unknown action, fields the message
does not have) would otherwise block the queue forever, or end every session with an exception
and so reconnect forever. It is moved to the `dead` table (kept for diagnosis) with an error, and
the queue goes on with the next message.

The file's tables are in `queue_layout`; how a security event joins those waiting, in
`security_queue`.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.durable import Damage
from controller.durable_writer import MirroredDb
from controller.ocpp.queue_layout import SCHEMA, StoredTransaction, insert_transaction, upgrade
from controller.ocpp.queued_rows import decode_row
from controller.ocpp.security_queue import SECURITY_EVENT, coalesce

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Queued:
    seq: int
    action: str
    payload: dict[str, Any]
    tx_key: str | None
    attempts: int


class OcppDb:
    """One SQLite file for the queue, the transactions and the configuration keys."""

    version = "1.6"  # of the messages queued here; a 2.0.1 queue subclasses

    def __init__(self, path: Path) -> None:
        self.damage: Damage | None
        self._db = MirroredDb(path, SCHEMA)
        self.damage = self._db.damage
        steps = upgrade(self._db.execute, path.name)
        if steps:
            self._db.commit(steps)  # through the writer, like every change to the file
        self._lock = threading.Lock()
        self.dead_rows = 0
        # Rows found on disk at start may come from another version or a damaged file: they
        # are checked against the schema. Rows this process queued come from the code, which
        # the test suite checks (about 1 ms a message saved here).
        last = self._db.execute("SELECT MAX(seq) FROM outbox").fetchone()
        self._check_schema_upto = int(last[0] or 0)

    def close(self) -> None:
        self._db.close()

    def _tx(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.commit(statements)

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

    def enqueue_security_event(self, kind: str, timestamp: str, tech_info: str | None) -> None:
        """Queue a SecurityEventNotification, coalesced with one of its type still waiting
        (`security_queue.coalesce`): a CSMS refusing us every few seconds must not fill the
        queue nor delay a transaction message."""
        with self._lock:
            rows = self._db.execute(
                "SELECT o.seq, o.payload, r.count, r.first FROM outbox o "
                "LEFT JOIN security_repeats r ON r.seq = o.seq "
                "WHERE o.action = ? ORDER BY o.seq",
                (SECURITY_EVENT,),
            ).fetchall()
        self._tx(coalesce(rows, kind, timestamp, tech_info))

    def peek(self) -> Queued | None:
        """The next message to send, transaction messages before security events; rows that
        cannot be sent are set aside on the way."""
        while True:
            with self._lock:
                row = self._db.execute(
                    "SELECT seq, action, payload, tx_key, attempts FROM outbox "
                    "ORDER BY action = ?, seq LIMIT 1",
                    (SECURITY_EVENT,),
                ).fetchone()
            if row is None:
                return None
            payload, problem = decode_row(
                row[1], row[2], row[0] <= self._check_schema_upto, self.version
            )
            if payload is not None:
                return Queued(row[0], row[1], payload, row[3], int(row[4] or 0))
            self._set_aside(row, problem)

    def _set_aside(self, row: tuple[Any, ...], problem: str) -> None:
        seq, action, raw, tx_key = row[0], row[1], row[2], row[3]
        log.error(
            "queued message %s (%r) cannot be sent: %s; moved to the 'dead' table of the "
            "queue database and skipped",
            seq,
            action,
            problem,
        )
        self.dead_rows += 1
        self._tx(
            [
                (
                    "INSERT OR REPLACE INTO dead VALUES (?, ?, ?, ?, ?)",
                    (seq, str(action), str(raw), tx_key, problem),
                ),
                ("DELETE FROM outbox WHERE seq = ?", (seq,)),
            ]
        )

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
                insert_transaction(tx),
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
                "SELECT tx_key, connector_id, transaction_id, id_tag, start, meter_start_wh, "
                "parent_id_tag FROM transactions WHERE open = 1"
            ).fetchall()
        out = []
        for r in rows:
            try:
                start = datetime.fromisoformat(r[4])
                parent = None if r[6] is None else str(r[6])
                out.append(
                    StoredTransaction(r[0], int(r[1]), r[2], str(r[3]), start, float(r[5]), parent)
                )
            except (TypeError, ValueError) as exc:
                log.error("open transaction %r cannot be read (%s): it is left as it is", r[0], exc)
        return out

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

    # --- tables of other parts (see auth_db) ---------------------------------------------

    def commit(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Statements of a part with its own tables, in one commit."""
        self._tx(statements)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

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
