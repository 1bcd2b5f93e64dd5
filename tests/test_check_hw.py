"""`chargectl check-hw` through the real drivers: emulated Modbus devices answer, missing ones
fail with a fix, and nothing crashes."""

import asyncio
import subprocess
import sys
import textwrap

from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer


def _run(cfg):
    return subprocess.run(
        [sys.executable, "-m", "controller", "check-hw", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_emulated_board_and_meter_pass(tmp_path):
    async def go():
        server = EmulatorServer(
            [EvseWbEmulator(device_id=1, firmware=18), Sdm630Emulator(device_id=2)]
        )
        port = await server.start_tcp()
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            textwrap.dedent(f"""
            [[connector]]
            id = 1
            driver = "modbus"
            [connector.modbus]
            board = "openwb_satellit"
            host = "127.0.0.1"
            tcp_port = {port}
            [connector.meter]
            type = "sdm630"
            host = "127.0.0.1"
            tcp_port = {port}
            device_id = 2
            """)
        )
        try:
            return await asyncio.to_thread(_run, cfg)
        finally:
            await server.stop()

    out = asyncio.run(go())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "firmware 18, current in 0.01 A steps" in out.stdout
    assert "1234.5 kWh" in out.stdout


def test_missing_devices_fail_with_a_fix(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [[connector]]
        id = 1
        driver = "modbus"
        [connector.modbus]
        port = "{tmp_path}/ttyUSB9"
        [[connector]]
        id = 2
        driver = "sysfs_pwm"
        """)
    )
    out = _run(cfg)
    assert out.returncode == 1
    assert "FAIL" in out.stdout and "ttyUSB9 does not exist" in out.stdout
    assert "dtoverlay=pwm,pin=18,func=2" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
