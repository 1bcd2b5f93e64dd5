"""`chargectl check-hw`: probe every configured device and say how to fix what fails.

Each probe opens the device the way the service would, through the same drivers, so a pass
here means `chargectl run` can open it too. Nothing is left switched on: every output ends in
the safe state. Run it while the service is stopped (the devices are not shared).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from controller.config import EX_CONFIG, ConfigError, ConnectorSection, Settings, load_settings
from hw.base import EvseDriver
from hw.probe import ProbeResult

PROBE_TIMEOUT_S = 10.0


async def _probe_connector(settings: Settings, c: ConnectorSection) -> list[ProbeResult]:
    from controller.drivers import build_connector
    from hw.clock import SystemClock
    from hw.errors import HardwareError

    results: list[ProbeResult] = []
    name = f"connector {c.id} ({c.driver})"
    try:
        hw = build_connector(settings, c, SystemClock(), buses={})
    except (HardwareError, OSError, ValueError) as exc:
        return [ProbeResult.failed(name, exc)]
    driver: EvseDriver = hw.driver
    try:
        results.extend(_opened(c, hw.driver))
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await driver.start()
                status = await driver.poll()
            detail = f"pilot state {status.cp_state.value}"
            scale = getattr(getattr(driver, "regmap", None), "current_scale", None)
            firmware = getattr(driver, "firmware", None)
            if firmware is not None:
                detail += f", firmware {firmware}"
            if scale is not None:
                detail += f", current in {1 / scale:g} A steps"
            if status.fault:
                results.append(
                    ProbeResult(
                        f"{name}: board", False, status.fault, "check the wiring and the device id"
                    )
                )
            else:
                results.append(ProbeResult(f"{name}: pilot / board", True, detail))
        except (HardwareError, TimeoutError, OSError) as exc:
            results.append(ProbeResult.failed(f"{name}: pilot / board", exc))
        if hw.meter is not None:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_S):
                    await hw.meter.start()
                    sample = await hw.meter.read()
                results.append(
                    ProbeResult(
                        f"{name}: meter",
                        True,
                        f"{sample.energy_wh / 1000:.1f} kWh, {sample.power_w:.0f} W, "
                        f"{'/'.join(f'{v:.0f}' for v in sample.voltage_v)} V",
                    )
                )
            except (HardwareError, TimeoutError, OSError) as exc:
                results.append(ProbeResult.failed(f"{name}: meter", exc))
    finally:
        await driver.safe_state()
        await driver.close()
        if hw.meter is not None:
            await hw.meter.close()
    return results


def _opened(c: ConnectorSection, driver: Any) -> list[ProbeResult]:
    out = []
    if c.driver == "sysfs_pwm":
        out.append(
            ProbeResult(
                f"connector {c.id}: PWM chip",
                True,
                f"{driver._output.chip_dir} channel {driver._output.channel} writable",
            )
        )
    if c.driver in ("sysfs_pwm", "gpiozero_pwm"):
        out.append(
            ProbeResult(
                f"connector {c.id}: contactor relay",
                True,
                f"GPIO{c.pilot.contactor_gpio} claimed, left open",
            )
        )
    if c.driver == "sim":
        out.append(ProbeResult(f"connector {c.id}: simulator", True, "no hardware to probe"))
    return out


def render(results: list[ProbeResult]) -> str:
    width = max((len(r.name) for r in results), default=10)
    lines = []
    for r in results:
        lines.append(f"{'OK  ' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.detail}")
        if r.fix:
            lines.append(f"      {'':<{width}}  fix: {r.fix}")
    return "\n".join(lines)


async def check(settings: Settings) -> list[ProbeResult]:
    results: list[ProbeResult] = []
    for c in settings.connector:
        results.extend(await _probe_connector(settings, c))
    return results


def check_hw_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EX_CONFIG
    # The probes report failures themselves; the drivers' own error logs would repeat them.
    logging.disable(logging.ERROR)
    results = asyncio.run(check(settings))
    print(render(results))
    return 0 if all(r.ok for r in results) else 1
