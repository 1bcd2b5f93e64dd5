"""The seed's story against the strict independent CSMS, once per driver, through each driver's
real code path: the direct pilot (kernel PWM on a sysfs tree, gpiozero mock pins, the simulated
car on the wires), a Modbus EVSE-WB board over a socat PTY, and the simulator. What is asserted
is what the car does: the current it draws."""

import asyncio
import contextlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from strict_csms import StrictCsms

from controller.app import Charger
from controller.config import make_settings
from controller.demo import PAUSE_PROFILE, RESUME_PROFILE
from controller.drivers import ConnectorHardware
from hw.clock import SystemClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hw"))
from sysfs_tree import FakeSysfs

CP = "CP-DRV-1"
pytestmark = [
    pytest.mark.skipif(StrictCsms.available() is not None, reason=str(StrictCsms.available())),
    pytest.mark.slow,
]


def _settings(url, tmp_path, **connector):
    return make_settings(
        ocpp={"url": url, "charge_point_id": CP},
        state={"dir": tmp_path / "state"},
        connector=[{"id": 1, "max_current_a": 32, **connector}],
        simulator={"ev_response_s": 0.3},
        pilot={"min_pause_s": 5},
    )


@contextlib.contextmanager
def direct_pilot(tmp_path):
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from controller.drivers import pilot_config
    from hw.direct_pilot import DirectPilotDriver
    from hw.gpio import GpioContactor, GpioHeartbeat
    from hw.pwm_sysfs import SysfsPwm
    from hw.sim import CarOnTheWire, SimMeter, SimulatedEv, SimulatorSettings

    sysfs = FakeSysfs(tmp_path / "sys")
    pins = MockFactory(pin_class=MockPWMPin)
    clock = SystemClock()

    def build(settings):
        ev = SimulatedEv(SimulatorSettings(ev_response_s=0.3), clock)
        pwm = SysfsPwm("auto", 2, root=sysfs.root)
        driver = DirectPilotDriver(
            pwm,
            CarOnTheWire(ev, pwm.read_duty, lambda: bool(pins.pin(17).state)),
            GpioContactor(17, pin_factory=pins),
            clock,
            pilot_config(settings, settings.connector[0]),
            heartbeat=GpioHeartbeat(22, pin_factory=pins),
        )
        hw = ConnectorHardware("sysfs_pwm", driver, SimMeter(ev), 32.0, ev)
        return {1: hw}, lambda: ev.drawn_current_a, {}

    try:
        yield build
    finally:
        sysfs.close()


@contextlib.contextmanager
def modbus_pty(tmp_path):
    from hw.emulators.evse_wb import EvseWbEmulator
    from hw.emulators.server import EmulatorServer

    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    a, b = tmp_path / "ttyV0", tmp_path / "ttyV1"
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while not (a.exists() and b.exists()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    evse = EvseWbEmulator()
    server = EmulatorServer([evse])

    def build(settings):
        return None, lambda: evse.drawn_a, {"server": server, "port": str(a)}

    try:
        yield build, {"driver": "modbus", "modbus": {"board": "evse_wb", "port": str(b)}}
    finally:
        proc.kill()
        proc.wait()


async def _story(csms, charger, drawn):
    async def draws(ok, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ok(drawn()):
                return True
            await asyncio.sleep(0.1)
        return False

    run = asyncio.create_task(charger.run())
    try:
        await csms.wait_for_call("BootNotification", timeout=30)
        r = await csms.call(CP, "RemoteStartTransaction", {"idTag": "DRV", "connectorId": 1})
        assert r["status"] == "Accepted"
        start = await csms.wait_for_call("StartTransaction", timeout=20)
        assert await draws(lambda a: a > 30, 15), "the car never drew 32 A"
        tx = 1
        r = await csms.call(
            CP,
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": {**PAUSE_PROFILE, "transactionId": tx}},
        )
        assert r["status"] == "Accepted"
        assert await draws(lambda a: a == 0, 3.5), "the car kept drawing after the pause"
        await asyncio.sleep(5)
        r = await csms.call(
            CP,
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": {**RESUME_PROFILE, "transactionId": tx}},
        )
        assert r["status"] == "Accepted"
        assert await draws(lambda a: abs(a - 16) < 0.1, 15), "the car did not resume at 16 A"
        r = await csms.call(CP, "ClearChargingProfile", {"id": 1002})
        assert r["status"] == "Accepted"
        assert await draws(lambda a: a == 0, 3.5), "clearing 1002 did not fall back to 0 A"
        r = await csms.call(CP, "RemoteStopTransaction", {"transactionId": tx})
        assert r["status"] == "Accepted"
        stop = await csms.wait_for_call("StopTransaction", timeout=20)
        assert stop["payload"]["reason"] == "Remote"
        assert start["payload"]["connectorId"] == 1
    finally:
        charger.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(run, 20)


def test_seed_story_direct_pilot(tmp_path):
    async def go():
        async with StrictCsms.start() as csms:
            with direct_pilot(tmp_path) as build:
                settings = _settings(csms.url, tmp_path, driver="sysfs_pwm")
                hardware, drawn, _ = build(settings)
                await _story(csms, Charger(settings, hardware=hardware), drawn)
            return csms.violations

    assert asyncio.run(asyncio.wait_for(go(), 120)) == []


def test_seed_story_modbus_over_a_pty(tmp_path):
    async def go():
        async with StrictCsms.start() as csms:
            with modbus_pty(tmp_path) as (build, connector):
                _, drawn, extra = build(None)
                await extra["server"].start_serial(extra["port"])
                try:
                    settings = _settings(csms.url, tmp_path, **connector)
                    await _story(csms, Charger(settings), drawn)
                finally:
                    await extra["server"].stop()
            return csms.violations

    assert asyncio.run(asyncio.wait_for(go(), 120)) == []


def test_seed_story_simulator(tmp_path):
    async def go():
        async with StrictCsms.start() as csms:
            charger = Charger(_settings(csms.url, tmp_path, driver="sim"))
            ev = charger.hardware[1].ev
            await _story(csms, charger, lambda: ev.drawn_current_a)
            return csms.violations

    assert asyncio.run(asyncio.wait_for(go(), 120)) == []
