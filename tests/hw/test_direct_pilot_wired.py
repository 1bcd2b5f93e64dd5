"""The direct-pilot driver through its real devices: kernel PWM on a sysfs tree, the contactor
on gpiozero mock pins, and a simulated car that reads the duty from the sysfs file and sees
the contactor from the relay pin (the 'wires'), on a fake clock."""

import asyncio

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from sysfs_tree import FakeSysfs

from hw.base import CpState
from hw.clock import FakeClock
from hw.direct_pilot import DirectPilotDriver
from hw.gpio import GpioContactor, GpioHeartbeat
from hw.pilot import PilotConfig
from hw.pwm_sysfs import SysfsPwm
from hw.sim import CarOnTheWire, SimulatedEv, SimulatorSettings


@pytest.fixture
def rig(tmp_path):
    sysfs = FakeSysfs(tmp_path / "sys")
    pins = MockFactory(pin_class=MockPWMPin)
    clock = FakeClock()
    ev = SimulatedEv(SimulatorSettings(ev_response_s=1.0), clock)
    pwm = SysfsPwm("auto", 2, root=sysfs.root)
    contactor = GpioContactor(17, pin_factory=pins)
    beat = GpioHeartbeat(22, pin_factory=pins)
    driver = DirectPilotDriver(
        pwm,
        CarOnTheWire(ev, pwm.read_duty, lambda: bool(pins.pin(17).state)),
        contactor,
        clock,
        PilotConfig(min_pause_s=10),
        heartbeat=beat,
    )
    yield driver, ev, clock, sysfs, pins
    asyncio.run(driver.close())
    sysfs.close()


def run(driver, clock, seconds):
    async def go():
        status = None
        for _ in range(round(seconds / 0.1)):
            clock.advance(0.1)
            status = await driver.poll()
        return status

    return asyncio.run(go())


def duty_file(sysfs):
    return int((sysfs.channel(2) / "duty_cycle").read_text())


def test_seed_pause_and_resume_through_the_real_devices(rig):
    driver, ev, clock, sysfs, pins = rig
    asyncio.run(driver.start())
    assert duty_file(sysfs) == 1_000_000
    asyncio.run(driver.set_limit(32))
    status = run(driver, clock, 5)
    assert duty_file(sysfs) == 533_333 and status.cp_state is CpState.C
    assert pins.pin(17).state == 1 and ev.drawn_current_a == pytest.approx(32, abs=0.01)

    asyncio.run(driver.set_limit(0))  # profile 1001
    assert duty_file(sysfs) == 1_000_000  # at once, before any poll
    status = run(driver, clock, 3)
    assert ev.drawn_current_a == 0 and status.cp_state is CpState.B
    assert pins.pin(17).state == 0

    asyncio.run(driver.set_limit(16))  # profile 1002, 3 s into the pause
    run(driver, clock, 6.5)
    assert duty_file(sysfs) == 1_000_000  # still inside the 10 s minimum pause
    run(driver, clock, 4)
    assert duty_file(sysfs) == 266_667
    assert ev.drawn_current_a == pytest.approx(16, abs=0.01) and pins.pin(17).state == 1
    # The watchdog output toggled on every poll.
    assert len(pins.pin(22).states) > 100


def test_close_leaves_the_kernel_pwm_at_x1_and_the_relay_open(rig):
    driver, _ev, clock, sysfs, pins = rig
    asyncio.run(driver.set_limit(16))
    run(driver, clock, 5)
    asyncio.run(driver.close())
    assert duty_file(sysfs) == 1_000_000
    assert (sysfs.channel(2) / "enable").read_text().strip() == "1"
    assert pins.pin(17).state == 0
