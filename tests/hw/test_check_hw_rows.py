"""`chargectl check-hw` probes every device, one row each, and gives the fix that fits.

Runs the real command in a subprocess against the sysfs tree, gpiozero's mock pins, the Modbus
emulators over TCP and over a socat PTY pair, and devices that are not there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from sysfs_tree import FakeSysfs
from test_modbus import PtyPair

from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer, free_port
from hw.modbus_probe import Link, port_problem

needs_socat = pytest.mark.skipif(shutil.which("socat") is None, reason="socat not installed")


def _check_hw(cfg, **env):
    base = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    return subprocess.run(
        [sys.executable, "-m", "controller", "check-hw", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "CHARGECTL_ENV_FILE": os.devnull, **env},
    )


def _rows(stdout: str) -> dict[str, str]:
    """Row name -> the whole row with its fix line."""
    rows: dict[str, str] = {}
    last = None
    for line in stdout.splitlines():
        if line.startswith(("OK", "FAIL")):
            _status, rest = line.split(None, 1)
            name = rest.split("  ")[0]
            rows[name] = line
            last = name
        elif last is not None:
            rows[last] += "\n" + line
    return rows


DIRECT = """
[[connector]]
id = 1
driver = "sysfs_pwm"
[connector.pilot]
contactor_gpio = 17
contactor_feedback_gpio = 27
watchdog_gpio = 22
"""


def test_direct_pilot_one_row_per_device_and_the_factory_named(tmp_path):
    tree = FakeSysfs(tmp_path / "sys")
    cfg = tmp_path / "c.toml"
    cfg.write_text(DIRECT)
    try:
        sysfs = str(tmp_path / "sys")
        out = _check_hw(cfg, CHARGECTL_SYSFS_ROOT=sysfs, GPIOZERO_PIN_FACTORY="mock")
    finally:
        tree.close()
    rows = _rows(out.stdout)
    assert rows["connector 1: GPIO pin factory"].startswith("OK"), out.stdout
    assert "MockFactory" in rows["connector 1: GPIO pin factory"]
    assert rows["connector 1: pilot PWM (sysfs): chip"].startswith("OK")
    assert rows["connector 1: contactor relay GPIO17"].startswith("OK")
    assert rows["connector 1: contactor feedback GPIO27"].startswith("OK")
    assert rows["connector 1: watchdog output GPIO22"].startswith("OK")
    # The mock SPI reads 0: the ADC row is there and fails with the calibration fix.
    adc = rows["connector 1: CP read-back (MCP3004 on SPI 0.0)"]
    assert adc.startswith("FAIL") and "volts_per_unit" in adc
    assert out.returncode == 1
    assert "Traceback" not in out.stdout + out.stderr


@pytest.mark.skipif(
    importlib.util.find_spec("lgpio") is not None, reason="this machine has a GPIO backend"
)
def test_no_pin_factory_names_the_fix_and_every_pin_still_gets_a_row(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(DIRECT)
    out = _check_hw(cfg, CHARGECTL_SYSFS_ROOT=str(tmp_path / "nosys"))
    rows = _rows(out.stdout)
    factory = rows["connector 1: GPIO pin factory"]
    assert factory.startswith("FAIL")
    assert "Falling back from lgpio" in factory and "install lgpio" in factory
    assert "dtoverlay=pwm,pin=18,func=2" in out.stdout
    for name in ("contactor relay GPIO17", "contactor feedback GPIO27", "watchdog output GPIO22"):
        row = rows[f"connector 1: {name}"]
        assert row.startswith("FAIL") and "see 'GPIO pin factory' above" in row
    assert "CP read-back" in out.stdout
    # The fallback warnings are in the row, not repeated on stderr per pin.
    assert "PinFactoryFallback" not in out.stderr


def test_modbus_tcp_failure_gets_tcp_advice(tmp_path):
    port = free_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [[connector]]
        id = 1
        driver = "modbus"
        [connector.modbus]
        host = "127.0.0.1"
        tcp_port = {port}
        """)
    )
    out = _check_hw(cfg)
    assert out.returncode == 1
    assert f"cannot connect to 127.0.0.1:{port}" in out.stdout
    assert "ping 127.0.0.1" in out.stdout
    assert "dialout" not in out.stdout and "A and B" not in out.stdout


def test_modbus_tcp_wrong_device_id_names_the_device_id(tmp_path):
    async def go():
        server = EmulatorServer([EvseWbEmulator(device_id=1, firmware=18)])
        port = await server.start_tcp()
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            textwrap.dedent(f"""
            [[connector]]
            id = 1
            driver = "modbus"
            [connector.modbus]
            host = "127.0.0.1"
            tcp_port = {port}
            device_id = 7
            """)
        )
        try:
            return await asyncio.to_thread(_check_hw, cfg)
        finally:
            await server.stop()

    out = asyncio.run(go())
    assert out.returncode == 1
    # The TCP emulator answers an unknown id with exception 4; a gateway may stay silent.
    assert "device_id = 7 is this device's address" in out.stdout
    assert "dialout" not in out.stdout


@needs_socat
def test_rtu_no_answer_names_device_id_ab_and_modbus_enable_and_meter_still_probed(tmp_path):
    # The board's line is silent (as a bus is with a wrong id, swapped A/B or Modbus off);
    # the meter sits on its own adapter with an emulated SDM630 behind it.
    (tmp_path / "board").mkdir()
    (tmp_path / "meter").mkdir()
    silent, meter_line = PtyPair(tmp_path / "board"), PtyPair(tmp_path / "meter")
    silent.start()
    meter_line.start()

    async def go():
        server = EmulatorServer([Sdm630Emulator(device_id=2)])
        await server.start_serial(str(meter_line.a), baudrate=9600)
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            textwrap.dedent(f"""
            [[connector]]
            id = 1
            driver = "modbus"
            [connector.modbus]
            port = "{silent.b}"
            device_id = 5
            [connector.meter]
            type = "sdm630"
            port = "{meter_line.b}"
            device_id = 2
            """)
        )
        try:
            return await asyncio.to_thread(_check_hw, cfg)
        finally:
            await server.stop()

    try:
        out = asyncio.run(go())
    finally:
        silent.stop()
        meter_line.stop()
    rows = _rows(out.stdout)
    board = next(v for k, v in rows.items() if "EVSE board evse_wb" in k)
    assert board.startswith("FAIL") and "id 5: no answer" in board, out.stdout
    assert "device_id = 5" in board and "swap the A and B" in board and "2001" in board
    assert "dialout" not in board
    meter = next(v for k, v in rows.items() if "meter sdm630" in k)
    assert meter.startswith("OK") and "1234.5 kWh" in meter, out.stdout
    assert out.returncode == 1


def test_missing_serial_port_lists_the_adapters_that_exist(tmp_path):
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-FTDI_FT232R_USB_UART_A10K-if00-port0").symlink_to("../../ttyUSB1")
    link = Link(str(tmp_path / "ttyUSB0"), None, 502, 1, "evse_wb")
    detail, fix = port_problem(link, by_id)  # type: ignore[misc]
    assert detail == f"{tmp_path}/ttyUSB0 does not exist"
    assert "usb-FTDI_FT232R_USB_UART_A10K-if00-port0" in fix
    detail, fix = port_problem(link, tmp_path / "none")  # type: ignore[misc]
    assert "no serial adapter" in fix and "plugged in" in fix
    assert port_problem(Link(None, "10.0.0.9", 502, 1, "evse_wb")) is None
