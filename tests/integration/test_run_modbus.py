"""`chargectl run` with driver = "modbus" against an emulated EVSE-WB board and SDM630 over
Modbus TCP: the seed's pause and resume reach register 1000, and the meter reaches MeterValues."""

import asyncio
import signal
import sys
import textwrap

import pytest
from ocpp.v16 import call

from controller.demo import PAUSE_PROFILE, RESUME_PROFILE
from controller.demo.csms import DemoCsms
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer

CP = "CP-MB-1"


async def _story(tmp_path):
    evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2)
    server = EmulatorServer([evse, sdm])
    port = await server.start_tcp()
    csms = DemoCsms()
    url = await csms.start()
    cfg = tmp_path / "config.toml"
    log = tmp_path / "service.log"
    cfg.write_text(
        textwrap.dedent(f"""
        [ocpp]
        url = "{url}"
        charge_point_id = "{CP}"
        [state]
        dir = "{tmp_path / "state"}"
        [[connector]]
        id = 1
        driver = "modbus"
        max_current_a = 32
        [connector.modbus]
        board = "openwb_satellit"
        host = "127.0.0.1"
        tcp_port = {port}
        device_id = 1
        [connector.meter]
        type = "sdm630"
        host = "127.0.0.1"
        tcp_port = {port}
        device_id = 2
        """)
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller",
        "run",
        "--config",
        str(cfg),
        stdout=log.open("wb"),
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await csms.wait_connected(CP, 10)
        await csms.call(CP, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1"))
        await csms.call(CP, call.RemoteStartTransaction(id_tag="MB", connector_id=1))
        start = await csms.wait_for("StartTransaction", timeout_s=20)
        tx = start.payload["_assigned_transaction_id"]
        assert start.payload["meter_start"] == 1234500
        await csms.wait_for("StatusNotification", lambda r: r.payload["status"] == "Charging", 20)
        sdm.current_a = (32.0, 32.0, 32.0)
        mark = len(csms.received)
        await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles={**PAUSE_PROFILE, "transactionId": tx}
            ),
        )
        await csms.wait_for(
            "StatusNotification", lambda r: r.payload["status"] == "SuspendedEVSE", 10, since=mark
        )
        paused_at = evse.current_reg
        await asyncio.sleep(11)
        await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles={**RESUME_PROFILE, "transactionId": tx}
            ),
        )
        await csms.wait_for(
            "StatusNotification", lambda r: r.payload["status"] == "Charging", 20, since=mark
        )
        await csms.wait_for("MeterValues", lambda r: r.payload["transaction_id"] == tx, 10)
        # The RS-485 link dies (here: the board's server goes away) and comes back.
        mark = len(csms.received)
        await server.stop()
        faulted = await csms.wait_for(
            "StatusNotification", lambda r: r.payload["status"] == "Faulted", 20, since=mark
        )
        server = EmulatorServer([evse, sdm])
        await server.start_tcp(port)
        await csms.wait_for(
            "StatusNotification", lambda r: r.payload["status"] == "Charging", 30, since=mark
        )
        return evse, paused_at, faulted
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
        await csms.close()
        await server.stop()


@pytest.mark.slow
def test_run_drives_the_modbus_board(tmp_path):
    evse, paused_at, faulted = asyncio.run(asyncio.wait_for(_story(tmp_path), 120))
    assert faulted.payload["error_code"] == "OtherError"
    assert "not answering" in faulted.payload["info"]
    values = [w.values[0] for w in evse.writes if w.address == 1000]
    assert paused_at == 0
    changes = [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]
    # start: pause; remote start: 32 A (0.01 A steps); 1001: pause; 1002: 16 A;
    # back from the outage: 16 A again; SIGTERM: pause
    assert changes[:4] == [0, 3200, 0, 1600]
    assert changes[-2:] == [1600, 0]
    assert evse.current_reg == 0  # the service left the board paused
