"""The durable files commit on writer threads: reads see a commit at once, the disk gets it
in order, and a commit the disk refuses is undone and reported to whoever waits to send."""

import asyncio
import sqlite3

import pytest

from controller.durable_writer import DurableWriteError, DurableWriter, MirroredDb, all_written

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);"


def on_disk(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT k, v FROM t ORDER BY k").fetchall()
    finally:
        db.close()


def test_mirrored_commits_are_read_at_once_and_reach_the_disk_in_order(tmp_path):
    path = tmp_path / "m.sqlite"
    db = MirroredDb(path, SCHEMA)

    async def go():
        for i in range(50):
            db.commit([("INSERT INTO t VALUES (?, ?)", (i, f"v{i}"))])
            db.commit([("UPDATE t SET v = ? WHERE k = ?", (f"w{i}", i))])
        assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 50
        await all_written()
        assert db.pending() == 0
        return on_disk(path)

    try:
        rows = asyncio.run(go())
    finally:
        db.close()
    assert rows == [(i, f"w{i}") for i in range(50)]


def test_a_commit_the_disk_refuses_is_undone_and_reported(tmp_path):
    path = tmp_path / "m.sqlite"
    db = MirroredDb(path, SCHEMA)
    db.commit([("INSERT INTO t VALUES (1, 'kept')", ())])
    db.written_future().result(timeout=10)
    # Only the file refuses (as a full disk would): the memory copy has no such trigger.
    db._file.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, 'no space'); END"
    )

    async def go():
        db.commit([("INSERT INTO t VALUES (2, 'lost')", ())])
        with pytest.raises(DurableWriteError, match="no space"):
            await all_written()
        await all_written()  # reported once: the next message may go

    try:
        asyncio.run(go())
        assert db.execute("SELECT k, v FROM t").fetchall() == [(1, "kept")]
    finally:
        db.close()
    assert on_disk(path) == [(1, "kept")]


def test_the_writer_puts_a_change_in_force_only_once_it_is_on_disk(tmp_path):
    path = tmp_path / "w.sqlite"
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.executescript(SCHEMA)
    writer = DurableWriter(conn, "w")
    applied: list[list[tuple[int, str]]] = []

    async def go():
        loop = asyncio.get_running_loop()
        writer.submit(
            [("INSERT INTO t VALUES (1, 'a')", ())],
            then=lambda: applied.append(on_disk(path)),
            loop=loop,
        )
        assert applied == []  # not before the disk has it
        await all_written()
        assert applied == [[(1, "a")]]  # in force before anything can be sent
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
        writer.submit(
            [("INSERT INTO t VALUES (2, 'b')", ())], then=lambda: applied.append([]), loop=loop
        )
        with pytest.raises(DurableWriteError):
            await all_written()
        assert len(applied) == 1  # the refused change never came into force

    try:
        asyncio.run(go())
    finally:
        writer.close()
        conn.close()
