"""The direct-pilot driver through its real devices: the kernel PWM on a /sys tree, the
contactor and watchdog on gpiozero mock pins, and a simulated car that sees only the wires: the
duty cycle in the sysfs file and the level of the relay pin. On a fake clock."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from sysfs_tree import PI5_PWM, FakeSysfs

from hw.base import CpState
from hw.clock import FakeClock
from hw.direct_pilot import DirectPilotDriver
from hw.errors import DriverIOError
from hw.gpio import GpioContactor, GpioHeartbeat
from hw.pilot import PilotConfig
from hw.pwm_sysfs import SysfsPwm
from hw.sim import CarOnTheWire, SimulatedEv, SimulatorSettings

POLL_S = 0.05


@pytest.fixture
def rig(tmp_path):
    sysfs = FakeSysfs(tmp_path / "sys")
    pins = MockFactory(pin_class=MockPWMPin)
    clock = FakeClock()
    ev = SimulatedEv(SimulatorSettings(ev_response_s=1.0), clock)
    pwm = SysfsPwm(root=sysfs.root)
    contactor = GpioContactor(17, pin_factory=pins)
    beat = GpioHeartbeat(22, pin_factory=pins)
    car = CarOnTheWire(ev, pwm.read_duty, lambda: bool(pins.pin(17).state))
    driver = DirectPilotDriver(
        pwm, car, contactor, clock, PilotConfig(min_pause_s=10), heartbeat=beat
    )
    yield driver, ev, clock, sysfs, pins
    sysfs.close()
    pins.reset()


async def run(driver, clock, seconds):
    status = None
    for _ in range(round(seconds / POLL_S)):
        clock.advance(POLL_S)
        status = await driver.poll()
    return status


async def test_charge_pause_resume_through_the_wires(rig):
    driver, ev, clock, sysfs, pins = rig
    await driver.start()
    await driver.set_limit(16)
    status = await run(driver, clock, 5)
    assert sysfs.read(2, "duty_cycle") == "266667" and pins.pin(17).state == 1
    assert status.cp_state is CpState.C and ev.drawn_current_a == pytest.approx(16, abs=0.01)
    await driver.set_limit(0)
    assert sysfs.read(2, "duty_cycle") == "1000000"  # X1 written inside set_limit
    status = await run(driver, clock, 3)
    assert pins.pin(17).state == 0 and ev.drawn_current_a == 0
    assert status.cp_state is CpState.B
    await driver.set_limit(16)
    await run(driver, clock, 10)
    assert ev.drawn_current_a == pytest.approx(16, abs=0.01) and pins.pin(17).state == 1
    assert len(pins.pin(22).states) > 300  # the watchdog saw every poll


async def test_close_leaves_the_kernel_pwm_at_x1_and_the_relay_off(rig):
    driver, ev, clock, sysfs, pins = rig
    await driver.start()
    await driver.set_limit(32)
    await run(driver, clock, 5)
    assert ev.drawn_current_a == pytest.approx(32, abs=0.01)
    await driver.close()
    assert sysfs.read(2, "duty_cycle") == "1000000" and sysfs.read(2, "enable") == "1"
    assert sysfs.unexports == []
    assert pins.pin(17).state == 0


async def test_a_channel_pulled_away_goes_safe_and_raises_a_driver_error(rig):
    driver, _ev, clock, sysfs, pins = rig
    await driver.start()
    await driver.set_limit(16)
    await run(driver, clock, 5)
    (sysfs.chips[PI5_PWM] / "unexport").write_text("2\n")  # another program unexports it
    for _ in range(400):
        if not sysfs.channel(2).exists():
            break
        time.sleep(0.005)
    with pytest.raises(DriverIOError, match="unexported"):
        await driver.set_limit(0)
    assert pins.pin(17).state == 0  # the contactor opened although the pilot write failed
