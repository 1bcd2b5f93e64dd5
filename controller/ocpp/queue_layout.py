"""The layout of ocpp.sqlite: the queue of messages, the transaction journal's records, the
energy register last reported, the configuration keys and the rows set aside.

Apart from the queue's code so the file's layout is read in one place, beside what changes it;
every table is created if missing, so a file of an older version gains the new ones at open.
A column added to a table that exists is a numbered step (`LAYOUT`, `PRAGMA user_version`),
committed through the file's writer at open, so a file of an older version is brought up to
date once and loses nothing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from controller.durable import Statement
from controller.station import TransactionInfo

log = logging.getLogger(__name__)

# 1: transactions.parent_id_tag, the group of the card that started the session (so a card
# of the same group may still stop it after a restart). Layout 0 files gain it empty.
LAYOUT = 1

SCHEMA = """
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
    open            INTEGER NOT NULL DEFAULT 1,
    parent_id_tag   TEXT
);
CREATE TABLE IF NOT EXISTS security_repeats (
    seq    INTEGER PRIMARY KEY,
    count  INTEGER NOT NULL,
    first  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meter_register (
    connector_id INTEGER PRIMARY KEY,
    energy_wh    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS config (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
    seq     INTEGER PRIMARY KEY,
    action  TEXT,
    payload TEXT,
    tx_key  TEXT,
    reason  TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    tx_key: str
    connector_id: int
    transaction_id: int | None
    id_tag: str
    start: datetime
    meter_start_wh: float
    parent_id_tag: str | None = None  # the group of `id_tag`, when known at the start


def stored(tx: TransactionInfo) -> StoredTransaction:
    """The journal's record of a session that starts (the central system's id comes later)."""
    return StoredTransaction(
        tx.tx_key,
        tx.connector_id,
        None,
        tx.id_tag,
        tx.start,
        tx.meter_start_wh,
        tx.parent_id_tag,
    )


def restored(t: StoredTransaction) -> TransactionInfo:
    """The session a stored open record stands for."""
    return TransactionInfo(
        t.connector_id,
        t.transaction_id,
        t.id_tag,
        t.start,
        t.meter_start_wh,
        t.tx_key,
        parent_id_tag=t.parent_id_tag,
    )


def insert_transaction(tx: StoredTransaction) -> Statement:
    """The journal's record of a transaction that opens."""
    return (
        "INSERT INTO transactions (tx_key, connector_id, transaction_id, id_tag, start, "
        "meter_start_wh, parent_id_tag) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            tx.tx_key,
            tx.connector_id,
            tx.transaction_id,
            tx.id_tag,
            tx.start.isoformat(),
            tx.meter_start_wh,
            tx.parent_id_tag,
        ),
    )


def upgrade(read: Callable[[str], sqlite3.Cursor], name: str) -> list[Statement]:
    """The statements that bring a file of an older layout (read through `read`) to `LAYOUT`,
    as one commit; none if it is there already."""
    if int(read("PRAGMA user_version").fetchone()[0]) >= LAYOUT:
        return []
    columns = {str(r[1]) for r in read("PRAGMA table_info(transactions)").fetchall()}
    statements: list[Statement] = []
    if "parent_id_tag" not in columns:
        open_now = int(read("SELECT COUNT(*) FROM transactions WHERE open = 1").fetchone()[0])
        statements.append(("ALTER TABLE transactions ADD COLUMN parent_id_tag TEXT", ()))
        log.warning(
            "%s: upgraded to layout %d: transactions keep the group (parentIdTag) of the card "
            "that started them; for the %d open from before, the group is unknown",
            name,
            LAYOUT,
            open_now,
        )
    statements.append((f"PRAGMA user_version = {LAYOUT}", ()))
    return statements
