"""`chargectl failsafe`: every configured output to the safe state, then exit.

Run by systemd after every stop of the service (`ExecStopPost=`), including crashes and
watchdog kills, as the second line of defence: pilot at +12 V without PWM, contactor open. It
opens the devices itself (the service is gone), so it works whatever state the service left.

It says "safe" only for an output it has confirmed: a driver's `safe_state()` never raises (it
must not, on the service's exit paths), so for a Modbus board the pause value is read back. An
output that is not confirmed is named on stderr and the exit status is 1, so the journal and
`systemctl status` show that someone must look at that connector.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from controller.config import EX_CONFIG, ConfigError, load_settings

NOT_SAFE = 1


async def _confirmed(driver: Any) -> str | None:
    """None if the output is confirmed in the safe state, else why it is not."""
    from hw.errors import HardwareError

    modbus = sys.modules.get("hw.modbus_evse")  # only imported if a connector uses a board
    if modbus is None or not isinstance(driver, modbus.ModbusEvseDriver):
        return None  # local outputs: safe_state() drives the pins itself
    rm = driver.regmap
    try:
        (value,) = await driver.bus.read_holding(rm.current_register, 1, driver.device_id)
    except HardwareError as exc:
        return f"the board did not answer: {exc}"
    if value != rm.pause_value:
        return f"the board holds current value {value}, not the pause value {rm.pause_value}"
    return None


async def _failsafe(config_path: str) -> int:
    from controller.drivers import build_connector
    from hw.clock import SystemClock

    settings = load_settings(config_path)
    failures = 0
    for c in settings.connector:
        try:
            hw = build_connector(settings, c, SystemClock())
            await hw.driver.safe_state()
            problem = await _confirmed(hw.driver)
            await hw.driver.close()
        except Exception as exc:  # noqa: BLE001 - every connector must be tried and reported
            problem = f"could not reach the hardware: {exc}"
        if problem is None:
            print(f"connector {c.id} ({c.driver}): pilot +12 V, contactor open")
            continue
        failures += 1
        print(
            f"connector {c.id} ({c.driver}): NOT confirmed safe: {problem}. The pilot and "
            "contactor of this connector may still be live: check it (chargectl check-hw) "
            "or cut its supply.",
            file=sys.stderr,
        )
    return NOT_SAFE if failures else 0


def failsafe_command(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_failsafe(args.config))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
