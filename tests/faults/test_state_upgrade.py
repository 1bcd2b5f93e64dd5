"""An installed charger upgraded in place: its state directory, written by the version whose
profile store kept a `transactions` table of its own and whose journal did not keep the group
(parentIdTag) of a transaction's card, is started on today's code.

Nothing may be lost on the way: the open transaction goes on (the journal in ocpp.sqlite owns
it; its group is unknown), its TxProfile still limits it, the ChargePointMaxProfile still caps
the station, and the queued messages are delivered. Both files are migrated once: the old
profile table is gone, the journal has its group column, and a second start does not migrate
again."""

import asyncio
import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import CAP_10A, CP, Service, wait_status, write_config

from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port

# The two state files as the version before the migration (5f0619d) wrote them: the _SCHEMA
# of controller/smart_charging/profile_file.py and of controller/ocpp/outbox.py.
OLD_PROFILES_SCHEMA = """
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
OLD_OCPP_SCHEMA = """
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

TX_ID = 4242
TX_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
TX_PROFILE_8A = {
    "chargingProfileId": 1001,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "transactionId": TX_ID,
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}],
    },
}


def _old_state(state: Path, start: datetime) -> None:
    state.mkdir(parents=True)
    at = start.isoformat()
    profiles = sqlite3.connect(state / "profiles.sqlite", isolation_level=None)
    profiles.executescript(OLD_PROFILES_SCHEMA)
    profiles.execute("INSERT INTO transactions VALUES (1, ?, ?)", (TX_ID, at))
    for cid, body in ((0, CAP_10A), (1, TX_PROFILE_8A)):
        profiles.execute(
            "INSERT INTO profiles VALUES (?, ?, ?, ?)",
            (body["chargingProfileId"], cid, json.dumps(body), at),
        )
    profiles.close()
    ocpp = sqlite3.connect(state / "ocpp.sqlite", isolation_level=None)
    ocpp.executescript(OLD_OCPP_SCHEMA)
    ocpp.execute(
        "INSERT INTO transactions VALUES (?, 1, ?, 'FREE', ?, 1000.0, 1)", (TX_KEY, TX_ID, at)
    )
    ocpp.execute("INSERT INTO meter_register VALUES (1, 1500.0)")
    meter_values = {
        "connector_id": 1,
        "meter_value": [
            {
                "timestamp": (start + timedelta(minutes=5)).isoformat(),
                "sampled_value": [
                    {
                        "value": "1500",
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    }
    ocpp.execute(
        "INSERT INTO outbox (action, payload, tx_key) VALUES ('MeterValues', ?, ?)",
        (json.dumps(meter_values), TX_KEY),
    )
    event = {"type": "MemoryExhausted", "timestamp": at, "tech_info": "before the upgrade"}
    ocpp.execute(
        "INSERT INTO outbox (action, payload) VALUES ('SecurityEventNotification', ?)",
        (json.dumps(event),),
    )
    ocpp.close()


def _profile_layout(state: Path) -> tuple[int, set[str]]:
    db = sqlite3.connect(state / "profiles.sqlite")
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return db.execute("PRAGMA user_version").fetchone()[0], tables
    finally:
        db.close()


def _ocpp_layout(state: Path) -> tuple[int, list[str], list[tuple[str, str | None]]]:
    """ocpp.sqlite's layout number, its transactions' columns, and the open ones (key, group)."""
    db = sqlite3.connect(state / "ocpp.sqlite")
    try:
        columns = [r[1] for r in db.execute("PRAGMA table_info(transactions)")]
        rows = db.execute("SELECT tx_key, parent_id_tag FROM transactions WHERE open = 1")
        return db.execute("PRAGMA user_version").fetchone()[0], columns, rows.fetchall()
    finally:
        db.close()


def _periods(comp):
    return [float(p["limit"]) for p in comp.charging_schedule["charging_schedule_period"]]


@pytest.mark.slow
def test_upgrade_keeps_the_open_transaction_its_tx_profile_and_the_queue(tmp_path):
    state = tmp_path / "state"
    _old_state(state, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10))
    port = free_port()
    cfg = write_config(tmp_path, port, resume=True)

    async def go():
        csms = DemoCsms()
        await csms.start(port=port)
        svc = await Service(cfg).start()
        try:
            mv = await csms.wait_for(
                "MeterValues", lambda r: r.payload["transaction_id"] == TX_ID, 30
            )
            assert mv.payload["meter_value"][0]["sampled_value"][0]["value"] == "1500"
            ev = await csms.wait_for(
                "SecurityEventNotification",
                lambda r: (r.payload.get("tech_info") or "").startswith("before the upgrade"),
                30,
            )
            assert ev.payload["type"] == "MemoryExhausted"
            doc = await wait_status(
                cfg, lambda d: (d["connectors"][0]["limit"] or {}).get("value") == 8.0
            )
            c1 = doc["connectors"][0]
            assert c1["transaction"]["transaction_id"] == TX_ID
            assert c1["limit"]["source"]["profile_id"] == 1001
            assert {p["id"] for p in doc["profiles"]} == {7, 1001}
            await csms.wait_connected(CP, 10)
            comp = await csms.call(CP, call.GetCompositeSchedule(connector_id=1, duration=60))
            assert _periods(comp) == [8.0]
            assert not [r for r in csms.received if r.action == "StartTransaction"]
            assert not [r for r in csms.received if r.action == "StopTransaction"]
        finally:
            await svc.stop()
        assert _profile_layout(state) == (1, {"profiles", "meta"})
        assert svc.log.count("migrated to layout 1") == 1
        layout, columns, open_tx = _ocpp_layout(state)
        assert layout == 1 and columns[-1] == "parent_id_tag"
        assert open_tx == [(TX_KEY, None)]  # the group of a session from before is unknown
        assert svc.log.count("ocpp.sqlite: upgraded to layout 1") == 1

        since = len(csms.received)
        again = await Service(cfg).start()
        try:
            await csms.wait_for("BootNotification", timeout_s=30, since=since)
            doc = await wait_status(
                cfg,
                lambda d: (
                    d["pid"] == again.proc.pid
                    and (d["connectors"][0]["limit"] or {}).get("value") == 8.0
                ),
            )
            assert doc["connectors"][0]["transaction"]["transaction_id"] == TX_ID
        finally:
            await again.stop()
            await csms.close()
        assert "migrated" not in again.log and "upgraded to layout" not in again.log
        assert _ocpp_layout(state)[0] == 1
        assert _profile_layout(state) == (1, {"profiles", "meta"})
        ocpp = sqlite3.connect(state / "ocpp.sqlite")
        open_tx = ocpp.execute("SELECT tx_key FROM transactions WHERE open = 1").fetchall()
        queued = ocpp.execute("SELECT COUNT(*) FROM outbox WHERE tx_key = ?", (TX_KEY,)).fetchone()
        ocpp.close()
        assert open_tx == [(TX_KEY,)] and queued == (0,)

    asyncio.run(asyncio.wait_for(go(), 150))
