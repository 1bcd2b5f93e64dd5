"""`kill -9` right after the CSMS got Accepted for a SendLocalList and a ReserveNow: after the
restart the list (its version and entries) and the reservation are there, and the connector
shows Reserved again. An Accepted leaves only once what it promises is on disk."""

import asyncio
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ocpp.v16 import call

from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import Service, wait_status

CP = "CP-AUTH-K9"


def _config(tmp_path, port):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [ocpp]
        url = "ws://127.0.0.1:{port}/ocpp"
        charge_point_id = "{CP}"
        max_reconnect_interval_s = 1
        [state]
        dir = "{tmp_path / "state"}"
        [simulator]
        plugged_in = false
        [web]
        enabled = false
        [[connector]]
        id = 1
        driver = "sim"
        """)
    )
    return cfg


def _reserved(r):
    return r.payload["connector_id"] == 1 and r.payload["status"] == "Reserved"


async def _story(tmp_path):
    port = free_port()
    cfg = _config(tmp_path, port)
    csms = DemoCsms()
    await csms.start(port=port)
    service = await Service(cfg).start()
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await csms.wait_connected(CP, 10)
        entries = [
            {"idTag": "K9-A", "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}},
            {"idTag": "K9-B", "idTagInfo": {"status": "Blocked"}},
        ]
        full = call.SendLocalList(
            list_version=3, update_type="Full", local_authorization_list=entries
        )
        r = await csms.call(CP, full)
        assert r.status == "Accepted"
        expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        reserve = call.ReserveNow(
            connector_id=1, expiry_date=expiry, id_tag="K9-A", reservation_id=21
        )
        r = await csms.call(CP, reserve)
        assert r.status == "Accepted"
        await service.kill9()
        mark = len(csms.received)
        service = await Service(cfg).start()
        doc = await wait_status(
            cfg,
            lambda d: d["csms"]["state"] == "booted" and d["connectors"][0]["reservation"],
        )
        assert doc["connectors"][0]["reservation"]["reservation_id"] == 21
        assert doc["csms"]["local_list_version"] == 3 and doc["csms"]["local_list_entries"] == 2
        await csms.wait_for("StatusNotification", _reserved, 20, since=mark)
        r = await csms.call(CP, call.GetLocalListVersion())
        assert r.list_version == 3
    finally:
        await service.stop()
        await csms.close()
    return service.log


def test_local_list_and_reservation_survive_kill_9(tmp_path):
    log = asyncio.run(asyncio.wait_for(_story(tmp_path), 120))
    assert "Traceback" not in log
