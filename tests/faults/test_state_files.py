"""Damaged state files: a supply cap is never lost silently.

A kill -9 followed by a lost or garbled journal must not lose an accepted profile; a file that
is damaged anyway is moved aside, named in an error, reported to the CSMS, and the charger runs
at the fallback current until the CSMS sends a profile again. A queued message that cannot be
sent is set aside instead of ending every session."""

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest
from ocpp.v16 import call

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import CAP_10A, CP, Service, status_json, wait_status, write_config

from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port


def _charging(r):
    return r.payload["status"] == "Charging"


async def _with_cap_then(tmp_path, damage, kill=True):
    """Install a 10 A ChargePointMaxProfile, end the service, `damage` the state, restart."""
    port = free_port()
    cfg = write_config(tmp_path, port)
    csms = DemoCsms()
    await csms.start(port=port)
    svc = await Service(cfg).start()
    try:
        await csms.wait_for("StatusNotification", _charging, 30)
        r = await csms.call(
            CP, call.SetChargingProfile(connector_id=0, cs_charging_profiles=CAP_10A)
        )
        assert r.status == "Accepted"
        if kill:
            await svc.kill9()
        else:
            await svc.stop()
    finally:
        await svc.stop()
        await csms.close()
    damage(tmp_path / "state")
    second = DemoCsms()
    await second.start(port=port)
    return cfg, second, await Service(cfg).start()


def _limit_periods(comp):
    return [float(p["limit"]) for p in comp.charging_schedule["charging_schedule_period"]]


@pytest.mark.slow
@pytest.mark.parametrize("what", ["deleted", "garbled"])
def test_lost_or_garbled_journal_after_kill9_keeps_the_cap(tmp_path, what):
    def damage(state):
        for side in ("profiles.sqlite-wal", "profiles.sqlite-journal"):
            p = state / side
            if what == "deleted":
                p.unlink(missing_ok=True)
            elif p.exists():
                p.write_bytes(b"\xde\xad\xbe\xef" * (p.stat().st_size // 4 + 1))
            else:
                p.write_bytes(b"\xde\xad\xbe\xef" * 1024)

    async def go():
        cfg, csms, svc = await _with_cap_then(tmp_path, damage)
        try:
            await csms.wait_for("BootNotification", timeout_s=30)
            await csms.wait_connected(CP, 10)
            comp = await csms.call(CP, call.GetCompositeSchedule(connector_id=0, duration=60))
            assert _limit_periods(comp) == [10.0]
            doc = await wait_status(cfg, lambda d: d["connectors"][0]["offered_a"] is not None)
            assert doc["connectors"][0]["offered_a"] <= 10.0
        finally:
            await svc.stop()
            await csms.close()

    asyncio.run(asyncio.wait_for(go(), 120))


@pytest.mark.slow
@pytest.mark.parametrize("how", ["empty", "half"])
def test_truncated_profiles_db_is_reported_and_charges_at_the_fallback(tmp_path, how):
    left = {}

    def damage(state):
        db = state / "profiles.sqlite"
        data = db.read_bytes()
        left["bytes"] = b"" if how == "empty" else data[: len(data) // 2]
        db.write_bytes(left["bytes"])

    async def go():
        cfg, csms, svc = await _with_cap_then(tmp_path, damage, kill=False)
        try:
            ev = await csms.wait_for(
                "SecurityEventNotification", lambda r: r.payload["type"] == "StateFileDamaged", 30
            )
            assert "profiles.sqlite" in ev.payload["tech_info"]
            assert "6 A" in ev.payload["tech_info"]
            # The control loop holds the connector to the fallback, not to its 32 A rating.
            doc = await wait_status(cfg, lambda d: d["connectors"][0]["limit"] is not None)
            assert doc["fallback_limit_a"] == 6.0
            assert doc["connectors"][0]["limit"]["value"] == 6.0
            assert (doc["connectors"][0]["offered_a"] or 0) <= 6.0
            await csms.wait_connected(CP, 10)
            comp = await csms.call(CP, call.GetCompositeSchedule(connector_id=1, duration=60))
            assert _limit_periods(comp) == [6.0]
            kept = list((tmp_path / "state").glob("profiles.sqlite.damaged-*"))
            assert len(kept) == 1 and kept[0].read_bytes() == left["bytes"]
            # A restart before the CSMS answers keeps the fallback: it is stored, not inferred.
            await svc.stop()
            since = len(csms.received)
            svc2 = await Service(cfg).start()
            try:
                doc = await wait_status(cfg, lambda d: d["pid"] == svc2.proc.pid)
                assert doc["fallback_limit_a"] == 6.0
                # The CSMS sends its cap again: the fallback ends.
                await csms.wait_for("BootNotification", timeout_s=30, since=since)
                await csms.wait_connected(CP, 30)
                r = await csms.call(
                    CP, call.SetChargingProfile(connector_id=0, cs_charging_profiles=CAP_10A)
                )
                assert r.status == "Accepted"
                doc = await wait_status(
                    cfg, lambda d: d["connectors"][0]["limit"]["value"] == 10.0, timeout_s=30
                )
                assert doc["fallback_limit_a"] is None
            finally:
                await svc2.stop()
            assert "profiles.sqlite" in svc.log and "lost" in svc.log
        finally:
            await svc.stop()
            await csms.close()

    asyncio.run(asyncio.wait_for(go(), 150))


@pytest.mark.slow
def test_garbage_queue_db_does_not_restart_loop(tmp_path):
    """Not a database at all: today exit 74 ("free space / make writable"), forever."""

    async def go():
        port = free_port()
        cfg = write_config(tmp_path, port)
        state = tmp_path / "state"
        state.mkdir()
        (state / "ocpp.sqlite").write_bytes(b"this is not a database\n" * 100)
        csms = DemoCsms()
        await csms.start(port=port)
        svc = await Service(cfg).start()
        try:
            ev = await csms.wait_for(
                "SecurityEventNotification", lambda r: r.payload["type"] == "StateFileDamaged", 30
            )
            assert "ocpp.sqlite" in ev.payload["tech_info"]
            await csms.wait_for("StatusNotification", _charging, 30)
            assert svc.proc.returncode is None
            assert list(state.glob("ocpp.sqlite.damaged-*"))
        finally:
            await svc.stop()
            await csms.close()
        assert "ocpp.sqlite" in svc.log and "damaged" in svc.log

    asyncio.run(asyncio.wait_for(go(), 90))


@pytest.mark.slow
def test_bad_outbox_row_is_set_aside_and_the_power_loss_stop_is_sent(tmp_path):
    async def go():
        port = free_port()
        cfg = write_config(tmp_path, port)
        csms = DemoCsms()
        await csms.start(port=port)
        svc = await Service(cfg).start()
        try:
            await csms.wait_for("StatusNotification", _charging, 30)
            start = await csms.wait_for("StartTransaction", timeout_s=10)
            tx = start.payload["_assigned_transaction_id"]
            await asyncio.sleep(0.5)  # let the StartTransaction answer land
            await svc.kill9()
        finally:
            await svc.stop()
            await csms.close()
        db = sqlite3.connect(tmp_path / "state" / "ocpp.sqlite")
        with db:
            insert = "INSERT INTO outbox (action, payload) VALUES (?, ?)"
            db.execute(insert, ("MeterValues", '{"connector_id": 1,'))
            db.execute(insert, ("NoSuchAction", "{}"))
            bad_type = '{"connector_id": "one", "meter_value": []}'
            db.execute(insert, ("MeterValues", bad_type))
        db.close()
        second = DemoCsms()
        await second.start(port=port)
        svc = await Service(cfg).start()
        try:
            stop = await second.wait_for("StopTransaction", timeout_s=30)
            assert stop.payload["reason"] == "PowerLoss"
            assert stop.payload["transaction_id"] == tx
            doc = status_json(cfg)
            assert doc["csms"]["state"] == "booted"
        finally:
            await svc.stop()
            await second.close()
        assert "cannot be sent" in svc.log
        db = sqlite3.connect(tmp_path / "state" / "ocpp.sqlite")
        dead = db.execute("SELECT action FROM dead ORDER BY seq").fetchall()
        db.close()
        assert dead == [("MeterValues",), ("NoSuchAction",), ("MeterValues",)]
        boots = [r for r in second.received if r.action == "BootNotification"]
        assert len(boots) == 1

    asyncio.run(asyncio.wait_for(go(), 120))
