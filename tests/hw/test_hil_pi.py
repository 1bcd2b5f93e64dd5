"""Hardware in the loop, on a real Raspberry Pi: `pytest --hil` (skipped otherwise).

Loopback wiring (no car, no 12 V): the PWM pin (GPIO18, `dtoverlay=pwm,pin=18,func=2`) is
wired through a 1 kOhm resistor to an input pin (GPIO23 by default). The test drives the pilot
through `SysfsPwm` and measures the duty cycle from the input's edge timestamps.

Environment: CHARGECTL_HIL_PWM_CHIP (default "auto"), CHARGECTL_HIL_PWM_CHANNEL (default 2 on a
Pi 5; use 0 on a Pi 4), CHARGECTL_HIL_INPUT_PIN (default 23). A lock file keeps two runs off the
same pins. Software edge timestamps jitter by tens of microseconds on Linux, so the tolerance is
one percentage point: this checks the wiring and the kernel PWM, not IEC's +-5 us.
"""

import fcntl
import os
import statistics
import time

import pytest

pytestmark = pytest.mark.hil


@pytest.fixture
def hil_lock():
    with open("/tmp/chargectl-hil.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@pytest.fixture
def pwm(hil_lock):
    from hw.pwm_sysfs import SysfsPwm

    out = SysfsPwm(
        os.environ.get("CHARGECTL_HIL_PWM_CHIP", "auto"),
        int(os.environ.get("CHARGECTL_HIL_PWM_CHANNEL", "2")),
    )
    yield out
    out.close()


@pytest.fixture
def edges():
    from gpiozero import DigitalInputDevice

    pin = DigitalInputDevice(int(os.environ.get("CHARGECTL_HIL_INPUT_PIN", "23")), pull_up=False)
    stamps = []
    pin.when_activated = lambda: stamps.append(("rise", time.perf_counter()))
    pin.when_deactivated = lambda: stamps.append(("fall", time.perf_counter()))
    yield pin, stamps
    pin.close()


def _measured_duty(stamps):
    highs, periods = [], []
    for (k1, t1), (k2, t2), (k3, t3) in zip(stamps, stamps[1:], stamps[2:]):
        if (k1, k2, k3) == ("rise", "fall", "rise"):
            highs.append(t2 - t1)
            periods.append(t3 - t1)
    assert len(periods) > 50, "too few edges: check the loopback wire"
    return 100 * statistics.median(highs) / statistics.median(periods), statistics.median(periods)


@pytest.mark.parametrize("amps", [6, 16, 32])
def test_duty_on_the_wire(pwm, edges, amps):
    from hw.iec61851 import duty_cycle_for_current

    _pin, stamps = edges
    pwm.set_duty(duty_cycle_for_current(amps))
    time.sleep(0.2)
    stamps.clear()
    time.sleep(0.5)
    duty, period = _measured_duty(list(stamps))
    assert duty == pytest.approx(duty_cycle_for_current(amps), abs=1.0)
    assert period == pytest.approx(0.001, rel=0.02)  # 1 kHz


def test_x1_is_steady_high(pwm, edges):
    pin, stamps = edges
    pwm.set_duty(100.0)
    time.sleep(0.2)
    stamps.clear()
    time.sleep(0.3)
    assert stamps == [] and pin.value == 1
