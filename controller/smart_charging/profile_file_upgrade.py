"""Bring a profile file written by an older version to today's layout, once.

Up to layout 0 the profile store kept its own `transactions` table (connector, transactionId,
start), a second copy of what the station's transaction journal in ocpp.sqlite holds. The
journal is the one owner now, so the table goes. What it knew that is the store's business is
which transaction a TxProfile belongs to: a TxProfile stored without a `transactionId` on a
connector whose row had one gets that id in its body before the table is dropped, so the
binding survives even if the journal's copy is not consulted. Everything is one commit, and
the layout number (`PRAGMA user_version`) is set in it, so a second start does not migrate
again and a power cut mid-way leaves the old layout whole.
"""

from __future__ import annotations

import json
import logging
import sqlite3

log = logging.getLogger(__name__)

LAYOUT = 1  # 1: no transactions table; TxProfile bindings live in the profiles' bodies


def upgrade(db: sqlite3.Connection, name: str) -> None:
    """Migrate `db` (autocommit connection) to `LAYOUT` if it is older."""
    if int(db.execute("PRAGMA user_version").fetchone()[0]) >= LAYOUT:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        has_table = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'transactions'"
        ).fetchone()
        if has_table:
            rows = db.execute("SELECT connector_id, transaction_id FROM transactions").fetchall()
            bound = sum(_bind(db, int(cid), tid) for cid, tid in rows if tid is not None)
            db.execute("DROP TABLE transactions")
            log.warning(
                "%s: migrated to layout %d: the profile store's own transactions table (%d "
                "open) is dropped, the OCPP journal keeps the transactions; %d TxProfile(s) "
                "bound to their transaction id",
                name,
                LAYOUT,
                len(rows),
                bound,
            )
        db.execute(f"PRAGMA user_version = {LAYOUT}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _bind(db: sqlite3.Connection, connector_id: int, transaction_id: int) -> int:
    """Write `transaction_id` into the connector's unbound TxProfiles; how many there were."""
    count = 0
    for pid, body in db.execute(
        "SELECT profile_id, body FROM profiles WHERE connector_id = ?", (connector_id,)
    ).fetchall():
        try:
            wire = json.loads(body)
        except ValueError:
            continue  # left for the loader, which logs and drops it
        if not isinstance(wire, dict) or wire.get("chargingProfilePurpose") != "TxProfile":
            continue
        if wire.get("transactionId") is not None:
            continue
        wire["transactionId"] = transaction_id
        db.execute("UPDATE profiles SET body = ? WHERE profile_id = ?", (json.dumps(wire), pid))
        count += 1
    return count
