"""A profile file of the older layout (its own `transactions` table) on today's code, and the
stored TxProfiles checked against the transactions the station restored."""

import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta

from controller.smart_charging import ProfileStore, SmartChargingConfig, Transaction

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

# profiles.sqlite as every version up to 5f0619d wrote it (controller/smart_charging/
# profile_file.py, _SCHEMA), user_version 0.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    profile_id   INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL,
    body         TEXT NOT NULL,
    installed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    connector_id   INTEGER PRIMARY KEY,
    transaction_id INTEGER,
    start          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def tx_profile(pid, limit, **extra):
    return {
        "chargingProfileId": pid,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
        **extra,
    }


CAP = {
    "chargingProfileId": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "ChargePointMaxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "startSchedule": "2024-01-01T00:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20}],
    },
}


def old_file(path, transactions, profiles):
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(OLD_SCHEMA)
    for cid, tid in transactions:
        db.execute("INSERT INTO transactions VALUES (?, ?, ?)", (cid, tid, T0.isoformat()))
    for cid, body in profiles:
        db.execute(
            "INSERT INTO profiles VALUES (?, ?, ?, ?)",
            (body["chargingProfileId"], cid, json.dumps(body), T0.isoformat()),
        )
    db.close()


def layout(path):
    db = sqlite3.connect(path)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return db.execute("PRAGMA user_version").fetchone()[0], tables
    finally:
        db.close()


def test_old_file_is_migrated_once_and_keeps_profiles_and_bindings(tmp_path, caplog):
    path = tmp_path / "profiles.sqlite"
    config = SmartChargingConfig(number_of_connectors=2)
    old_file(
        path,
        transactions=[(1, 42), (2, 43)],
        # Connector 1's TxProfile names its transaction; connector 2's was stored without one.
        profiles=[(0, CAP), (1, tx_profile(1001, 8, transactionId=42)), (2, tx_profile(1002, 9))],
    )
    with caplog.at_level(logging.WARNING):
        s = ProfileStore(config, path)
    assert sum("migrated to layout 1" in r.getMessage() for r in caplog.records) == 1
    assert layout(path) == (1, {"profiles", "meta"})
    assert sorted(ip.profile.profile_id for ip in s.installed()) == [7, 1001, 1002]
    bound = {ip.profile.profile_id: ip.profile.transaction_id for ip in s.installed()}
    assert bound == {7: None, 1001: 42, 1002: 43}
    # The station tells the store of its open transactions; the TxProfiles limit them.
    s.restore_transactions([Transaction(1, 42, T0), Transaction(2, 43, T0)], {1, 2})
    assert s.limit_at(1, T0 + timedelta(minutes=1)).value == 8.0
    assert s.limit_at(2, T0 + timedelta(minutes=1)).value == 9.0
    s.close()

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = ProfileStore(config, path)
    assert not any("migrated" in r.getMessage() for r in caplog.records)
    assert layout(path) == (1, {"profiles", "meta"})
    assert sorted(ip.profile.profile_id for ip in again.installed()) == [7, 1001, 1002]
    again.close()


def test_a_new_file_starts_at_the_new_layout(tmp_path):
    ProfileStore(SmartChargingConfig(), tmp_path / "p.sqlite").close()
    assert layout(tmp_path / "p.sqlite") == (1, {"profiles", "meta"})


def test_restored_transactions_decide_which_tx_profiles_live(tmp_path):
    path = tmp_path / "p.sqlite"
    config = SmartChargingConfig(number_of_connectors=3)
    s = ProfileStore(config, path)
    for cid, tid in ((1, None), (2, 50), (3, 60)):
        s.transaction_started(cid, tid, T0)
    assert s.set_charging_profile(1, tx_profile(1001, 8), T0).accepted
    assert s.set_charging_profile(2, tx_profile(1002, 9), T0).accepted
    assert s.set_charging_profile(3, tx_profile(1003, 10), T0).accepted
    s.close()

    again = ProfileStore(config, path)
    # The journal says: connector 1's transaction got id 41 before the power went, connector
    # 2's ended (its stop was committed, the profile file had not followed); connector 3 is
    # not configured any more, so its profile is left alone.
    again.restore_transactions([Transaction(1, 41, T0)], {1, 2})
    bound = {ip.profile.profile_id: ip.profile.transaction_id for ip in again.installed()}
    assert bound == {1001: 41, 1003: 60}
    assert again.limit_at(1, T0).value == 8.0 and again.limit_at(2, T0).value is None
    again.close()
    third = ProfileStore(config, path)  # what was decided is on disk
    bound = {ip.profile.profile_id: ip.profile.transaction_id for ip in third.installed()}
    assert bound == {1001: 41, 1003: 60}
    third.close()


def test_a_tx_profile_naming_another_transaction_dies_at_restore(tmp_path):
    path = tmp_path / "p.sqlite"
    s = ProfileStore(SmartChargingConfig(), path)
    s.transaction_started(1, None, T0)
    assert s.set_charging_profile(1, tx_profile(1001, 8, transactionId=7), T0).accepted
    s.close()
    again = ProfileStore(SmartChargingConfig(), path)
    again.restore_transactions([Transaction(1, 8, T0)], {1})
    assert again.installed() == []
    again.close()
