"""The durable SQLite files on their own: what counts as damage, and what is kept."""

import sqlite3

from controller.durable import commit, open_checked, open_durable

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);"


def _filled(path, rows=200):
    db = open_durable(path, SCHEMA)
    commit(db, [("INSERT INTO t VALUES (?, ?)", (i, "x" * 200)) for i in range(rows)])
    db.close()


def test_a_commit_is_in_the_main_file_with_no_side_file(tmp_path):
    path = tmp_path / "s.sqlite"
    db = open_durable(path, SCHEMA)
    commit(db, [("INSERT INTO t VALUES (1, 'cap')", ())])
    # Still open, as after a kill -9: nothing committed lives outside the main file.
    assert not (tmp_path / "s.sqlite-wal").exists()
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(path.read_bytes())
    assert sqlite3.connect(copy).execute("SELECT v FROM t").fetchall() == [("cap",)]
    db.close()


def test_a_file_left_in_wal_mode_keeps_its_wal_content(tmp_path):
    """A state directory written by an older version, killed before a checkpoint."""
    path = tmp_path / "s.sqlite"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("PRAGMA wal_autocheckpoint=0")
    old.executescript(SCHEMA)
    old.execute("INSERT INTO t VALUES (1, 'cap')")
    assert (tmp_path / "s.sqlite-wal").stat().st_size > 0
    # What a killed process leaves: the files as they are, no checkpoint on close.
    left = tmp_path / "left"
    left.mkdir()
    for name in ("s.sqlite", "s.sqlite-wal"):
        (left / name).write_bytes((tmp_path / name).read_bytes())
    old.close()
    db, damage = open_checked(left / "s.sqlite", SCHEMA)
    assert damage is None
    assert db.execute("SELECT v FROM t").fetchall() == [("cap",)]
    db.close()
    assert not (left / "s.sqlite-wal").exists()  # folded into the main file


def test_a_page_boundary_truncation_is_damage(tmp_path):
    path = tmp_path / "s.sqlite"
    _filled(path)
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    path.write_bytes(data[: page * 2])
    db, damage = open_checked(path, SCHEMA)
    assert damage is not None and "truncated" in damage.reason
    assert damage.moved_to.read_bytes() == data[: page * 2]
    assert db.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
    db.close()


def test_garbage_inside_a_page_is_damage(tmp_path):
    path = tmp_path / "s.sqlite"
    _filled(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page * 2 : page * 2 + 512] = b"\xff" * 512  # a btree page, not the header
    path.write_bytes(bytes(data))
    db, damage = open_checked(path, SCHEMA)
    assert damage is not None
    assert damage.moved_to.exists() and damage.moved_to.name.startswith("s.sqlite.damaged-")
    db.close()


def test_an_unwritable_directory_is_not_called_damage(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    try:
        open_checked(blocker / "s.sqlite", SCHEMA)
    except OSError:
        pass
    else:
        raise AssertionError("expected the directory error to propagate")
    assert blocker.read_text() == "not a directory"
