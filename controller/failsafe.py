"""`chargectl failsafe`: every configured output to the safe state, then exit.

Run by systemd after every stop of the service (`ExecStopPost=`), including crashes and
watchdog kills, as the second line of defence: pilot at +12 V without PWM, contactor open. It
opens the devices itself (the service is gone), so it works whatever state the service left.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from controller.config import EX_CONFIG, ConfigError, load_settings


async def _failsafe(config_path: str) -> int:
    from controller.drivers import build_connector
    from hw.clock import SystemClock
    from hw.errors import HardwareError

    settings = load_settings(config_path)
    failures = 0
    for c in settings.connector:
        try:
            hw = build_connector(settings, c, SystemClock())
            await hw.driver.safe_state()
            await hw.driver.close()
            print(f"connector {c.id} ({c.driver}): pilot +12 V, contactor open")
        except HardwareError as exc:
            failures += 1
            print(
                f"connector {c.id} ({c.driver}): could not reach the hardware: {exc}",
                file=sys.stderr,
            )
    return 1 if failures else 0


def failsafe_command(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_failsafe(args.config))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
