"""`check-hw` rows for a Modbus EVSE board or meter, with the fix that fits the failure.

A Modbus failure has few causes and each has its own fix: the serial device is missing (name
the adapters that are there), not permitted (group dialout), the TCP peer is unreachable (the
network, not the RS-485 wiring), or nothing answers on the bus (device id, A/B swapped, or
Modbus still disabled on the board). A generic "check everything" sends people in circles.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hw.errors import DriverTimeout, HardwareError
from hw.probe import ProbeResult

BY_ID_DIR = Path("/dev/serial/by-id")
PROBE_TIMEOUT_S = 10.0

# Boards speaking the EVSE-WB register map (Modbus is off on these from the factory).
_EVSE_WB_LIKE = ("evse_wb", "evse_din", "openwb_satellit")


@dataclass(frozen=True, slots=True)
class Link:
    """Where a Modbus device is: one of port (RTU) or host (TCP), and its address."""

    port: str | None
    host: str | None
    tcp_port: int
    device_id: int
    board: str | None = None  # None: a meter

    @property
    def where(self) -> str:
        at = self.port if self.port is not None else f"{self.host}:{self.tcp_port}"
        return f"{at} id {self.device_id}"


def serial_adapters(by_id_dir: Path = BY_ID_DIR) -> list[str]:
    try:
        return sorted(str(p) for p in by_id_dir.iterdir())
    except OSError:
        return []


def port_problem(link: Link, by_id_dir: Path = BY_ID_DIR) -> tuple[str, str] | None:
    """(detail, fix) when the serial device cannot be used at all; None for TCP or a good port."""
    if link.port is None:
        return None
    if not os.path.exists(link.port):
        found = serial_adapters(by_id_dir)
        fix = (
            "serial adapters present (use the stable path): " + ", ".join(found)
            if found
            else f"no serial adapter in {by_id_dir}: is the USB RS-485 adapter plugged in? "
            "(ls /dev/ttyUSB* /dev/ttyACM*)"
        )
        return f"{link.port} does not exist", fix
    if not os.access(link.port, os.R_OK | os.W_OK):
        return (
            f"{link.port}: permission denied",
            "the service user must be in group dialout (sudo usermod -aG dialout evse); "
            "for check-hw run it with sudo",
        )
    return None


def no_answer_fix(link: Link) -> str:
    if link.host is not None:
        return (
            f"the TCP side works but device id {link.device_id} did not answer: check device_id "
            "and, behind an RS-485 gateway, the gateway's serial settings and the A/B wiring"
        )
    fix = f"check device_id = {link.device_id} (the device's bus address), baudrate and parity"
    fix += "; swap the A and B wires; terminate both ends of a long bus"
    if link.board in _EVSE_WB_LIKE:
        fix += (
            "; Modbus is off on a new EVSE-WB/DIN (register 2001 = 0): pull AN to GND five "
            "times within 3 s after power-up to enable it (2001 = 1), and read 2005 to check"
        )
    return fix


def classify(error: BaseException, link: Link) -> ProbeResult:
    """The row for a failed exchange with a device (name filled in by the caller)."""
    detail = (str(error) or type(error).__name__).partition("; ")[0]
    if isinstance(error, DriverTimeout | TimeoutError):
        return ProbeResult("", False, f"{link.where}: no answer", no_answer_fix(link))
    if "cannot open" in detail or "cannot connect" in detail:
        if link.host is not None:
            return ProbeResult(
                "",
                False,
                f"cannot connect to {link.host}:{link.tcp_port}",
                f"check host and tcp_port, that the device or gateway is powered and on the "
                f"network (ping {link.host}), and that its Modbus TCP server is enabled",
            )
        return ProbeResult(
            "",
            False,
            detail,
            "check the device path and that the service user is in group dialout",
        )
    if "exception 10" in detail or "exception 11" in detail:
        # A gateway's "path unavailable" / "target device failed to respond".
        return ProbeResult("", False, f"{link.where}: no answer", no_answer_fix(link))
    if "exception" in detail:
        what = f"board = {link.board!r}" if link.board else "the meter type"
        return ProbeResult(
            "",
            False,
            detail,
            f"something answered but refused the request: check that device_id = "
            f"{link.device_id} is this device's address and that {what} matches it",
        )
    return ProbeResult("", False, detail, no_answer_fix(link))


async def probe_board(driver: Any, link: Link) -> ProbeResult:
    """Start the board (learn its scale, pause it) and read its state once."""
    name = f"EVSE board {link.board} ({link.where})"
    problem = port_problem(link)
    if problem is not None:
        return ProbeResult(name, False, *problem)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await driver.start()
            status = await driver.poll()
    except (HardwareError, TimeoutError, OSError) as exc:
        row = classify(exc, link)
        return ProbeResult(name, False, row.detail, row.fix)
    if status.fault:
        return ProbeResult(name, False, status.fault.text, no_answer_fix(link))
    detail = f"pilot state {status.cp_state.value}"
    if getattr(driver, "firmware", None) is not None:
        detail += f", firmware {driver.firmware}"
    scale = getattr(getattr(driver, "regmap", None), "current_scale", None)
    if scale is not None:
        detail += f", current in {1 / scale:g} A steps"
    return ProbeResult(name, True, detail)


async def probe_meter(meter: Any, link: Link, model: str) -> ProbeResult:
    name = f"meter {model} ({link.where})"
    problem = port_problem(link)
    if problem is not None:
        return ProbeResult(name, False, *problem)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await meter.start()
            sample = await meter.read()
    except (HardwareError, TimeoutError, OSError) as exc:
        row = classify(exc, link)
        return ProbeResult(name, False, row.detail, row.fix)
    volts = "/".join(f"{v:.0f}" for v in sample.voltage_v)
    return ProbeResult(
        name, True, f"{sample.energy_wh / 1000:.1f} kWh, {sample.power_w:.0f} W, {volts} V"
    )
