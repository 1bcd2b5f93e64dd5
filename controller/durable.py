"""SQLite as the charger's durable memory: a commit that returns has reached the disk.

Both the profile store and the OCPP queue promise the CSMS something (an Accepted, a
transaction message) that a power cut must not undo, so both open their file the same way
(WAL, synchronous=FULL) and write only through `commit`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Statement = tuple[str, tuple[Any, ...]]


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


def commit(db: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    """All statements in one transaction, on disk when this returns, or none of them."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, params in statements:
            db.execute(sql, params)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
