"""Hardware missing at start-up: the service runs, tells the CSMS the connector is Faulted and
why, keeps trying, and charges once the hardware is back, without a restart."""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
