"""The phase-switch relay on a GPIO with its feedback input, driven by the direct pilot through
the kernel PWM (a sysfs tree) and gpiozero mock pins, a simulated car on the wires (item 6)."""

import sys
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hw.clock import FakeClock
from hw.direct_pilot import DirectPilotDriver
from hw.gpio import GpioContactor, GpioPhaseSwitch
from hw.phase_switch import PhaseSwitchConfig
from hw.pilot import PilotConfig
from hw.pwm_sysfs import SysfsPwm
from hw.sim import CarOnTheWire, SimulatedEv, SimulatorSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hw"))
from sysfs_tree import FakeSysfs

POLL_S = 0.05
CONTACTOR, RELAY, FEEDBACK = 17, 23, 24


@pytest.fixture
def rig(tmp_path):
    sysfs = FakeSysfs(tmp_path / "sys")
    pins = MockFactory(pin_class=MockPWMPin)
    clock = FakeClock()
    ev = SimulatedEv(SimulatorSettings(ev_response_s=1.0), clock)
    pwm = SysfsPwm(root=sysfs.root)
    relay = GpioPhaseSwitch(RELAY, feedback_pin=FEEDBACK, pin_factory=pins)
    car = CarOnTheWire(ev, pwm.read_duty, lambda: bool(pins.pin(CONTACTOR).state))
    driver = DirectPilotDriver(
        pwm,
        car,
        GpioContactor(CONTACTOR, pin_factory=pins),
        clock,
        PilotConfig(min_pause_s=10),
        phase_switch=relay,
        phase_switch_config=PhaseSwitchConfig(wait_s=10, min_interval_s=300),
    )
    yield driver, ev, clock, sysfs, pins
    sysfs.close()
    pins.reset()


class Wiring:
    """The relay's contact: what it connects reaches the car; its auxiliary contact the input.
    Every change of the relay pin is recorded with what flowed through the main contactor."""

    def __init__(self, ev, pins, stuck_at=None):
        self.ev, self.pins, self.stuck_at = ev, pins, stuck_at
        self.changes = []
        self._last = None

    def follow(self, clock):
        state = self.pins.pin(RELAY).state
        phases = self.stuck_at or (3 if state else 1)
        if state != self._last:
            self.changes.append(
                (clock.monotonic(), state, self.pins.pin(CONTACTOR).state, self.ev.drawn_current_a)
            )
            self._last = state
        self.ev.set_phases_connected(phases)
        pin = self.pins.pin(FEEDBACK)
        pin.drive_high() if phases == 3 else pin.drive_low()


async def run(driver, clock, wiring, seconds):
    for _ in range(round(seconds / POLL_S)):
        clock.advance(POLL_S)
        await driver.poll()
        wiring.follow(clock)


async def test_switch_to_one_phase_through_the_relay_pin_never_under_load(rig):
    driver, ev, clock, sysfs, pins = rig
    wiring = Wiring(ev, pins)
    await driver.start()
    wiring.follow(clock)
    assert pins.pin(RELAY).state == 1 and driver.capabilities.can_switch_phases
    await driver.set_limit(16)
    await run(driver, clock, wiring, 6)
    assert ev.drawn_current_a == pytest.approx(16, abs=0.01) and ev.phases_drawn == 3
    driver.request_phases(1)
    await run(driver, clock, wiring, 30)
    assert pins.pin(RELAY).state == 0 and driver.phases_in_use == 1
    assert ev.phases_drawn == 1 and ev.drawn_current_a == pytest.approx(16, abs=0.01)
    assert sysfs.read(2, "duty_cycle") == "266667" and pins.pin(CONTACTOR).state == 1
    for _t, _state, contactor, drawn_a in wiring.changes[1:]:
        assert contactor == 0 and drawn_a == 0.0
    await driver.close()
    assert pins.pin(CONTACTOR).state == 0


async def test_a_relay_whose_feedback_disagrees_disables_switching(rig):
    driver, ev, clock, _sysfs, pins = rig
    wiring = Wiring(ev, pins, stuck_at=3)  # welded: stays on three phases
    await driver.start()
    wiring.follow(clock)
    await driver.set_limit(16)
    await run(driver, clock, wiring, 6)
    driver.request_phases(1)
    await run(driver, clock, wiring, 40)
    report = driver.phase_switch_report()
    assert report.disabled and driver.phases_in_use == 3
    assert report.last_result.startswith("relay feedback says 3 phase(s), not 1")
    assert ev.drawn_current_a == pytest.approx(16, abs=0.01)  # charging again on three
