"""Hardware missing at start-up: the service runs, tells the CSMS the connector is Faulted and
why, keeps trying, and charges once the hardware is back, without a restart."""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from controller.config import make_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import Service, write_config

from controller.demo.csms import DemoCsms
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.server import EmulatorServer, free_port


def _modbus_connector(transport):
    return (
        '[[connector]]\nid = 1\ndriver = "modbus"\n[connector.modbus]\nboard = "evse_wb"\n'
        f"{transport}\ntimeout_s = 0.3\n"
    )


async def _story(tmp_path, transport, bring_back):
    port = free_port()
    cfg = write_config(tmp_path, port, connector=_modbus_connector(transport))
    csms = DemoCsms()
    await csms.start(port=port)
    svc = await Service(cfg).start()
    board = EvseWbEmulator(device_id=1)
    server = EmulatorServer([board])
    cleanup = None
    try:
        faulted = await csms.wait_for(
            "StatusNotification",
            lambda r: r.payload["connector_id"] == 1 and r.payload["status"] == "Faulted",
            30,
        )
        assert faulted.payload["info"]
        await asyncio.sleep(6)  # at least one retry has failed: still running, still Faulted
        assert svc.proc.returncode is None
        since = len(csms.received)
        cleanup = await bring_back(server)
        charging = await csms.wait_for(
            "StatusNotification",
            lambda r: r.payload["connector_id"] == 1 and r.payload["status"] == "Charging",
            30,
            since=since,
        )
        assert charging.payload["error_code"] == "NoError"
        assert board.offered_a >= 6
        boots = [r for r in csms.received if r.action == "BootNotification"]
        assert len(boots) == 1  # recovered in place, no restart
        return faulted
    finally:
        await svc.stop()
        await server.stop()
        await csms.close()
        if cleanup is not None:
            cleanup()


@pytest.mark.slow
def test_unreachable_modbus_board_at_start(tmp_path):
    board_port = free_port()

    async def bring_back(server):
        await server.start_tcp(board_port)
        return None

    faulted = asyncio.run(
        asyncio.wait_for(
            _story(tmp_path, f'host = "127.0.0.1"\ntcp_port = {board_port}', bring_back), 120
        )
    )
    assert "Modbus" in faulted.payload["info"] or "hardware" in faulted.payload["info"]


@pytest.mark.slow
def test_missing_serial_adapter_at_start(tmp_path):
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    tty = tmp_path / "ttyUSB9"  # does not exist when the service starts
    other = tmp_path / "ttyBoard"

    async def bring_back(server):
        proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={tty}", f"pty,raw,echo=0,link={other}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(250):
            if tty.exists() and other.exists():
                break
            await asyncio.sleep(0.02)
        await server.start_serial(str(other))

        def cleanup():
            proc.kill()
            proc.wait()

        return cleanup

    asyncio.run(asyncio.wait_for(_story(tmp_path, f'port = "{tty}"', bring_back), 120))


def test_missing_pwm_device_at_start_is_a_faulted_connector(tmp_path, monkeypatch):
    """The direct pilot's PWM block is not there: the service still runs and says why."""
    from controller.app import Charger

    monkeypatch.setenv("CHARGECTL_SYSFS_ROOT", str(tmp_path / "no-sys"))
    settings = make_settings(
        ocpp={"url": "ws://127.0.0.1:9/ocpp"},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "driver": "sysfs_pwm"}, {"id": 2, "driver": "sim"}],
    )

    async def go():
        charger = Charger(settings)
        task = asyncio.create_task(charger.run())
        try:
            await asyncio.wait_for(charger.loop.started.wait(), 10)
            await asyncio.sleep(0.5)
            assert not task.done()
            doc = charger.status_document()
            faulted, sim = doc["connectors"]
            assert "hardware unavailable" in faulted["fault"]
            assert charger.ocpp.connector_status(1) == "Faulted"
            assert sim["fault"] is None
            assert charger.ocpp.connector_status(2) != "Faulted"
        finally:
            charger.stop()
            await asyncio.wait_for(task, 20)

    asyncio.run(go())
