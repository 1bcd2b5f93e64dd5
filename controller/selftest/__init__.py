"""`chargectl selftest`: the end-of-line test of a finished charger with the EV-emulator rig (or a
test plug) attached. See docs/hil.md for the rig and the steps.

Exit status for the production line's scripts: 0 every step passed (skipped steps allowed),
1 at least one step failed, 2 the test could not run (configuration, wiring, permissions).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEVICE_TREE_SERIAL = Path("/sys/firmware/devicetree/base/serial-number")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--serial",
        help="serial number for the report (default: [ocpp] serial_number, else the Pi's own)",
    )
    p.add_argument("--report-dir", default=".", metavar="DIR", help="where the reports go")
    p.add_argument("--connector", type=int, default=1, help="connector id to test (default 1)")
    p.add_argument(
        "--rig",
        default="default",
        metavar="SWITCH=GPIO,...",
        help="rig switch pins, e.g. plug=5,request=6,ventilation=13,short=26 ('default': "
        "those; 'none': no rig, pilot levels skipped)",
    )
    p.add_argument(
        "--loopback-gpio",
        type=int,
        metavar="GPIO",
        help="input wired (through 1 kOhm) to the PWM pin, to measure the duty on the wire",
    )
    p.add_argument("--no-ocpp", action="store_true", help="skip the back-office link check")
    p.add_argument(
        "--rfid-timeout-s",
        type=float,
        default=20.0,
        metavar="S",
        help="how long to wait for the test card on the configured reader (default 20)",
    )
    p.add_argument(
        "--test-card",
        metavar="UID",
        help="the test card's idTag, e.g. 1C78F2BF; without it any card passes",
    )


def _fail(message: str) -> int:
    print(f"chargectl selftest: {message}", file=sys.stderr)
    return 2


def _serial(args: argparse.Namespace, configured: str | None) -> str | None:
    if args.serial:
        return str(args.serial)
    if configured:
        return configured
    with contextlib.suppress(OSError):
        text = DEVICE_TREE_SERIAL.read_bytes().rstrip(b"\0").decode(errors="replace").strip()
        if text:
            return text
    return None


def selftest_command(args: argparse.Namespace) -> int:
    from controller.config import ConfigError, load_settings
    from controller.selftest.rig import parse_gpios

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    connectors = {c.id: c for c in settings.connector}
    connector = connectors.get(args.connector)
    if connector is None:
        return _fail(f"no connector {args.connector} in {args.config}")
    if connector.driver not in ("sysfs_pwm", "gpiozero_pwm"):
        return _fail(
            f"connector {connector.id} uses driver {connector.driver!r}; the end-of-line test "
            "drives the pilot itself and needs driver = 'sysfs_pwm' or 'gpiozero_pwm'"
        )
    serial = _serial(args, settings.ocpp.serial_number)
    if serial is None:
        return _fail("no serial number: pass --serial or set [ocpp] serial_number")
    try:
        gpios = None if args.rig == "none" else parse_gpios(args.rig)
    except ValueError as exc:
        return _fail(f"--rig: {exc}")
    if not 0 < args.rfid_timeout_s <= 600:
        return _fail(f"--rfid-timeout-s: {args.rfid_timeout_s:g} is not between 0 and 600 s")
    if args.test_card is not None:
        from controller.selftest.rfid_card import parse_test_card

        try:
            args.test_card = parse_test_card(args.test_card)
        except ValueError as exc:
            return _fail(f"--test-card: {exc}")
    return asyncio.run(_run(args, settings, connector, serial, gpios))


def _rfid_check(args: argparse.Namespace, settings: Any, connector: Any) -> Any:
    """The card step on the connector's own reader, else the station's; None: no reader."""
    from controller.readers import READERS
    from controller.selftest.rfid_card import read_test_card

    section = connector.rfid or settings.rfid
    if section is None:
        return None
    reader = READERS[section.type](section)

    def announce(text: str) -> None:
        print(text, flush=True)

    return lambda: read_test_card(
        reader, section.id_tag_style, args.test_card, args.rfid_timeout_s, announce
    )


async def _run(
    args: argparse.Namespace, settings: Any, connector: Any, serial: str, gpios: Any
) -> int:
    from controller.drivers import build_connector
    from controller.selftest import report
    from controller.selftest.duty import DutyMeter, EdgeDutyMeter, KernelDutyMeter
    from controller.selftest.ocpp_link import check_ocpp
    from controller.selftest.rig import RigCar
    from controller.selftest.runner import Unit, run_selftest
    from hw.clock import SystemClock
    from hw.direct_pilot import DirectPilotDriver
    from hw.errors import HardwareError
    from hw.pwm_sysfs import SysfsPwm

    started = datetime.now(UTC)
    opened: list[Any] = []
    try:
        hardware = build_connector(settings, connector, SystemClock())
        driver = hardware.driver
        assert isinstance(driver, DirectPilotDriver)
        opened.append(driver)
        await driver.safe_state()
        car = RigCar(gpios) if gpios else None
        if car is not None:
            opened.append(car)
        duty: DutyMeter
        if args.loopback_gpio is not None:
            duty = EdgeDutyMeter(args.loopback_gpio)
        elif isinstance(driver.output, SysfsPwm):
            duty = KernelDutyMeter(driver.output.read_duty, driver.output.period_ns)
        else:
            return _fail("the gpiozero PWM has no kernel duty to read: pass --loopback-gpio")
        opened.append(duty)
        unit = Unit(
            output=driver.output,
            sensor=driver.sensor,
            contactor=driver.contactor,
            duty=duty,
            car=car,
            meter=hardware.meter,
            nominal_v=settings.station.voltage_v,
            phases=connector.phases,
            ocpp_check=None if args.no_ocpp else (lambda: check_ocpp(settings)),
            rfid_check=_rfid_check(args, settings, connector),
        )
        results = await run_selftest(unit)
    except HardwareError as exc:
        return _fail(f"{exc} (run `chargectl check-hw` for the fix)")
    finally:
        for device in reversed(opened):
            with contextlib.suppress(Exception):
                closing = device.close()
                if asyncio.iscoroutine(closing):
                    await closing
    finished = datetime.now(UTC)
    setup = (
        f"connector {connector.id} ({connector.driver}), rig: "
        + (car.describe() if car is not None else "none")
        + f", duty from {duty.source}"
    )
    doc = report.document(results, serial, started, finished, setup)
    print(report.table(results))
    try:
        json_path, text_path = report.write(Path(args.report_dir), doc, results)
    except OSError as exc:
        print(f"chargectl selftest: cannot write the report: {exc}", file=sys.stderr)
        return 2
    print(f"\n{doc['result'].upper()}  report: {json_path}  summary: {text_path}")
    return 0 if doc["result"] == "pass" else 1
