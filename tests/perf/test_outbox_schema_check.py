"""The queue checks a row against the OCPP schema only if it was found on disk at start (an
older version's or a damaged file's); what this process queued is checked by the test suite,
not at run time."""

import sqlite3

from controller.ocpp.outbox import OcppDb

BAD = {"connector_id": "one", "meter_value": []}  # connectorId must be an integer


def test_rows_found_on_disk_are_checked_and_set_aside(tmp_path):
    path = tmp_path / "ocpp.sqlite"
    OcppDb(path).close()
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT INTO outbox (action, payload) VALUES (?, ?)",
            ("MeterValues", '{"connector_id": "one", "meter_value": []}'),
        )
    db.close()
    q = OcppDb(path)
    try:
        assert q.peek() is None
        assert q.dead_rows == 1
    finally:
        q.close()


def test_rows_queued_by_this_process_are_not_checked_again(tmp_path):
    q = OcppDb(tmp_path / "ocpp.sqlite")
    try:
        q.enqueue("MeterValues", {"connector_id": 1, "meter_value": []})
        q.enqueue("MeterValues", BAD)
        first = q.peek()
        assert first is not None
        q.ack(first.seq)
        second = q.peek()
        assert second is not None and second.payload == BAD
        assert q.dead_rows == 0
    finally:
        q.close()
