"""SQLite as the charger's durable memory: a commit that returns is in the main database file.

Both the profile store and the OCPP queue promise the CSMS something (an Accepted, a
transaction message) that a power cut must not undo, so both open their file the same way and
write only through `commit`. They use a rollback journal, not WAL: with WAL a committed change
lives in the `-wal` file until a checkpoint, and a lost or garbled `-wal` silently takes a
supply cap with it. With a rollback journal the main file holds every committed change, and the
journal only ever holds the one being written. These files are written a few times a minute at
most, so the extra fsync per commit costs nothing that matters.

A file that is damaged anyway (a truncated SD card write, a bad block) is moved aside and
replaced by an empty one, and the caller learns what happened through `Damage`, so it can say
what was lost instead of starting silently with less.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Statement = tuple[str, tuple[Any, ...]]

log = logging.getLogger(__name__)

_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class Damage:
    """A state file that could not be trusted at start-up and was moved aside."""

    path: Path
    moved_to: Path
    reason: str


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """Open (or create) `path`; raise sqlite3.DatabaseError if it is damaged."""
    path.parent.mkdir(parents=True, exist_ok=True)
    problem = _file_problem(path)
    if problem is not None:
        raise sqlite3.DatabaseError(problem)
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
        rows = db.execute("PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            raise sqlite3.DatabaseError(
                "integrity check: " + "; ".join(str(r[0]) for r in rows[:3])
            )
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


def open_checked(
    path: Path, schema: str, now: datetime | None = None
) -> tuple[sqlite3.Connection, Damage | None]:
    """Open `path`; if it is damaged, move it aside (kept for diagnosis) and start empty.

    Errors of the directory itself (not writable, disk full) are not damage: they propagate.
    """
    try:
        return open_durable(path, schema), None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not _is_corruption(exc):
            raise
        reason = str(exc)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    moved_to = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while moved_to.exists():
        n += 1
        moved_to = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(moved_to)
    for suffix in ("-journal", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(moved_to.with_name(moved_to.name + suffix))
    return open_durable(path, schema), Damage(path, moved_to, reason)


def _is_corruption(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "not a database", "corrupt", "integrity"))


def _file_problem(path: Path) -> str | None:
    """What is wrong with the file's header, if anything SQLite itself would not notice.

    SQLite takes a zero-length file for a new empty database and may take a file cut at a page
    boundary for a smaller one; both would lose data without a word.
    """
    if not path.exists():
        return None
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (truncated)"
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(_HEADER):
        return "not a database (no SQLite header)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    change_counter = int.from_bytes(head[24:28], "big")
    pages = int.from_bytes(head[28:32], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    if pages and valid_for == change_counter and size < pages * page_size:
        return f"the file is truncated ({size} of {pages * page_size} bytes)"
    return None


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
