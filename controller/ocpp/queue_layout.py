"""The layout of ocpp.sqlite: the queue of messages, the transaction journal's records, the
energy register last reported, the configuration keys and the rows set aside.

Apart from the queue's code so the file's layout is read in one place, beside what changes it;
every table is created if missing, so a file of an older version gains the new ones at open.
"""

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
    open            INTEGER NOT NULL DEFAULT 1
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
