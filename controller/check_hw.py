"""`chargectl check-hw`: probe every configured device and say how to fix what fails.

Each device module's own `probe` opens the device the way the service would, so a pass here
means `chargectl run` can open it too. Every device gets its row even when another failed: the
person at the wiring wants the whole list in one run. Nothing is left switched on: every output
ends in the safe state. Run it while the service is stopped (the devices are not shared).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import warnings
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.config import (
    EX_CONFIG,
    ConfigError,
    ConnectorSection,
    RfidSection,
    Settings,
    load_settings,
)
from hw.errors import HardwareError
from hw.probe import ProbeResult

if TYPE_CHECKING:
    from hw.modbus_probe import Link

PROBE_TIMEOUT_S = 10.0


async def _guarded(name: str, probe: Awaitable[list[ProbeResult]]) -> list[ProbeResult]:
    """One probe's rows; whatever goes wrong in it becomes a row and the next probe runs."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S * 2):
            return await probe
    except Exception as exc:  # noqa: BLE001 - a broken probe must not hide the others
        return [ProbeResult(name, False, f"probe failed: {exc or type(exc).__name__}")]


async def _direct_pilot(c: ConnectorSection) -> list[ProbeResult]:
    from hw import cp_adc, gpio, pwm_sysfs

    p = c.pilot
    factory = gpio.probe_pin_factory()
    rows: list[ProbeResult] = [factory]
    if c.driver == "sysfs_pwm":
        root = Path(os.environ.get("CHARGECTL_SYSFS_ROOT", "/sys"))
        rows += await _guarded("pilot PWM", pwm_sysfs.probe(p.pwm_chip, p.pwm_channel, root=root))
    elif p.pwm_gpio is not None:
        rows += await _guarded("pilot PWM", _gpiozero_pwm(p.pwm_gpio))
    rows += await _guarded(
        "contactor GPIO",
        gpio.probe(
            p.contactor_gpio,
            active_high=p.contactor_active_high,
            feedback_pin=p.contactor_feedback_gpio,
            feedback_pull_up=p.contactor_feedback_pull_up,
            watchdog_pin=p.watchdog_gpio,
        ),
    )
    rows += await _guarded(
        "CP read-back ADC",
        cp_adc.probe(
            p.adc,
            positive_channel=p.adc_positive_channel,
            negative_channel=p.adc_negative_channel,
            spi_port=p.adc_spi_port,
            spi_device=p.adc_spi_device,
            volts_per_unit=p.adc_volts_per_unit,
            offset_v=p.adc_offset_v,
        ),
    )
    if not factory.ok:
        # Every pin fails for the same reason: point at the one fix instead of three wrong ones.
        rows = [factory] + [
            replace(r, fix=f"see '{factory.name}' above")
            if not r.ok and "pin factory" in r.detail
            else r
            for r in rows[1:]
        ]
    return rows


async def _gpiozero_pwm(pin: int) -> list[ProbeResult]:
    from hw.errors import DriverUnavailable
    from hw.gpio import GpiozeroPwm

    name = f"pilot PWM GPIO{pin} (gpiozero)"
    try:
        GpiozeroPwm(pin).close()
    except DriverUnavailable as exc:
        return [ProbeResult.failed(name, exc)]
    return [ProbeResult(name, True, "claimed, left at +12 V")]


def _links(c: ConnectorSection) -> tuple[Link | None, Link | None]:
    from hw.modbus_probe import Link

    board = meter = None
    if c.driver == "modbus" and c.modbus is not None:
        m = c.modbus
        board = Link(m.port, m.host, m.tcp_port, m.device_id, m.board)
    if c.meter is not None and c.meter.type not in ("none", "sim"):
        mt = c.meter
        meter = Link(mt.port, mt.host, mt.tcp_port, mt.device_id)
    return board, meter


async def _modbus(settings: Settings, c: ConnectorSection) -> list[ProbeResult]:
    """The board and the meter, each with its own row, whatever happens to the other."""
    from controller.drivers import build_connector
    from hw.clock import SystemClock
    from hw.meter_modbus import ModbusMeter
    from hw.modbus_bus import ModbusBus
    from hw.modbus_probe import port_problem, probe_board, probe_meter

    board_link, meter_link = _links(c)
    rows: list[ProbeResult] = []
    usable = []
    for link in (board_link, meter_link):
        if link is None:
            continue
        problem = port_problem(link)
        if problem is None:
            usable.append(link)
        else:
            what = f"EVSE board {link.board}" if link.board else "meter"
            rows.append(ProbeResult(f"{what} ({link.where})", False, *problem))
    if not usable:
        return rows
    driver: Any = None
    meter: Any = None
    try:
        if board_link in usable:
            hw = build_connector(settings, c, SystemClock(), buses={})
            driver, meter = hw.driver, hw.meter
            rows.append(await probe_board(driver, board_link))
        elif meter_link is not None and c.meter is not None:
            mt = c.meter
            bus = ModbusBus(
                port=mt.port,
                host=mt.host,
                tcp_port=mt.tcp_port,
                baudrate=mt.baudrate,
                parity=mt.parity,
            )
            meter = ModbusMeter(bus, mt.type, device_id=mt.device_id)
        if meter is not None and meter_link in usable and c.meter is not None:
            rows.append(await probe_meter(meter, meter_link, c.meter.type))
    except (HardwareError, OSError, ValueError) as exc:
        rows.append(ProbeResult.failed(f"Modbus ({c.driver})", exc))
    finally:
        if driver is not None:
            await driver.safe_state()
            await driver.close()
        if meter is not None:
            await meter.close()
    return rows


async def _probe_connector(settings: Settings, c: ConnectorSection) -> list[ProbeResult]:
    rows: list[ProbeResult] = []
    if c.driver == "sim":
        from hw.sim import SimulatorSettings
        from hw.sim import probe as sim_probe

        s = settings.simulator
        rows += await _guarded(
            "simulator",
            sim_probe(
                SimulatorSettings(
                    plugged_in=s.plugged_in,
                    ev_max_current_a=s.ev_max_current_a,
                    phases=c.phases,
                )
            ),
        )
    elif c.driver in ("sysfs_pwm", "gpiozero_pwm"):
        rows += await _guarded("direct pilot", _direct_pilot(c))
    if c.driver == "modbus" or c.meter is not None:
        rows += await _guarded("Modbus", _modbus(settings, c))
    if c.rfid is not None:
        rows += await _guarded("RFID reader", _rfid(c.rfid))
    return [replace(r, name=f"connector {c.id}: {r.name}") for r in rows]


def render(results: list[ProbeResult]) -> str:
    width = max((len(r.name) for r in results), default=10)
    lines = []
    for r in results:
        lines.append(f"{'OK  ' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.detail}")
        if r.fix:
            lines.append(f"      {'':<{width}}  fix: {r.fix}")
    return "\n".join(lines)


async def _rfid(r: RfidSection) -> list[ProbeResult]:
    """Opens the reader as the service would; a card need not be on it."""
    if r.type == "hid":
        from hw.rfid import hid

        return await hid.probe(r.path)
    if r.type == "pn532":
        from hw.rfid import pn532

        return await pn532.probe(r.port, r.baudrate)
    if r.type == "rc522":
        from hw.rfid import rc522

        return await rc522.probe(r.spi_port, r.spi_device, r.reset_gpio)
    from hw.rfid import sim

    return await sim.probe()


async def check(settings: Settings) -> list[ProbeResult]:
    results: list[ProbeResult] = []
    for c in settings.connector:
        results.extend(await _probe_connector(settings, c))
    if settings.rfid is not None:
        rows = await _guarded("RFID reader", _rfid(settings.rfid))
        results.extend(replace(r, name=f"station: {r.name}") for r in rows)
    from controller.grid_probe import probe_grid_meter

    results.extend(await _guarded("grid meter", probe_grid_meter(settings)))
    return results


def check_hw_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    # The probes report failures themselves; the drivers' own error logs would repeat them.
    logging.disable(logging.ERROR)
    # The pin factory row names every backend gpiozero skipped; each pin would repeat it.
    from gpiozero.exc import PinFactoryFallback

    warnings.simplefilter("ignore", PinFactoryFallback)
    taken_at = datetime.now(UTC)
    results = asyncio.run(check(settings))
    print(render(results))
    from controller import hardware_checks

    problem = hardware_checks.save(settings.state.dir, hardware_checks.document(results, taken_at))
    if problem is not None:
        print(f"chargectl check-hw: results not kept for the dashboard: {problem}", file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1
