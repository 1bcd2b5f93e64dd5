"""The kernel PWM driver against a real file tree, and the relays on gpiozero mock pins."""

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from sysfs_tree import FakeSysfs

from hw.base import CpState
from hw.cp_adc import AdcPilotSensor
from hw.errors import DriverUnavailable
from hw.gpio import GpioContactor, GpioHeartbeat, GpiozeroPwm, PWMSoftwareFallback
from hw.pwm_sysfs import SysfsPwm


@pytest.fixture
def sysfs(tmp_path):
    tree = FakeSysfs(tmp_path / "sys")
    yield tree
    tree.close()


@pytest.fixture
def pins():
    return MockFactory(pin_class=MockPWMPin)


def read(path):
    return path.read_text().strip()


def test_exports_the_channel_and_starts_at_x1(sysfs):
    pwm = SysfsPwm("1f00098000.pwm", 2, root=sysfs.root)
    ch = sysfs.channel(2)
    assert read(ch / "period") == "1000000"
    assert read(ch / "duty_cycle") == "1000000"  # 100 % = +12 V, no offer
    assert read(ch / "enable") == "1"
    pwm.set_duty(26.6667)
    assert read(ch / "duty_cycle") == "266667"
    pwm.close()
    assert read(ch / "duty_cycle") == "1000000"


def test_auto_finds_the_chip_by_device_not_number(sysfs):
    pwm = SysfsPwm("auto", 0, root=sysfs.root)
    assert pwm.chip_dir.name == "pwmchip2"


def test_inverted_front_end(sysfs):
    pwm = SysfsPwm("auto", 1, root=sysfs.root, invert=True)
    assert read(sysfs.channel(1) / "duty_cycle") == "0"
    pwm.set_duty(10.0)
    assert read(sysfs.channel(1) / "duty_cycle") == "900000"
    assert pwm.read_duty() == pytest.approx(10.0)


def test_missing_overlay_names_the_fix(tmp_path):
    (tmp_path / "class" / "pwm").mkdir(parents=True)
    with pytest.raises(DriverUnavailable, match=r"dtoverlay=pwm"):
        SysfsPwm("auto", 0, root=tmp_path)


def test_wrong_chip_name_lists_what_exists(sysfs):
    with pytest.raises(DriverUnavailable, match=r"1f00098000\.pwm"):
        SysfsPwm("fe20c000.pwm", 0, root=sysfs.root)


def test_channel_beyond_the_chip(sysfs):
    with pytest.raises(DriverUnavailable):
        SysfsPwm("auto", 7, root=sysfs.root, export_timeout_s=0.2)


def test_no_permission_names_the_udev_rule(sysfs, monkeypatch):
    import pathlib

    real = pathlib.Path.write_text

    def denied(self, *a, **kw):
        if self.name == "export":
            raise PermissionError(13, "Permission denied")
        return real(self, *a, **kw)

    monkeypatch.setattr(pathlib.Path, "write_text", denied)
    with pytest.raises(DriverUnavailable, match=r"99-chargectl-pwm\.rules"):
        SysfsPwm("auto", 0, root=sysfs.root)


def test_contactor_relay_and_feedback(pins):
    c = GpioContactor(17, feedback_pin=27, pin_factory=pins)
    relay, fb = pins.pin(17), pins.pin(27)
    assert relay.state == 0 and c.feedback() is False
    c.set_closed(True)
    assert relay.state == 1
    fb.drive_high()
    assert c.feedback() is True
    c.close()
    assert relay.state == 0


def test_active_low_relay(pins):
    c = GpioContactor(17, active_high=False, pin_factory=pins)
    assert pins.pin(17).state == 1  # open: coil off
    c.set_closed(True)
    assert pins.pin(17).state == 0
    c.close()


def test_a_pin_that_does_not_exist_is_a_clear_error(pins):
    with pytest.raises(DriverUnavailable, match="group gpio"):
        GpioContactor(99, pin_factory=pins)


def test_heartbeat_toggles(pins):
    h = GpioHeartbeat(22, pin_factory=pins)
    h.toggle()
    h.toggle()
    assert [s.state for s in pins.pin(22).states] == [False, True, False]
    h.close()


def test_gpiozero_pwm_warns_and_drives_the_duty(pins):
    with pytest.warns(PWMSoftwareFallback):
        pwm = GpiozeroPwm(18, pin_factory=pins)
    pin = pins.pin(18)
    assert pin.frequency == 1000 and pin.state == 1.0
    pwm.set_duty(26.67)
    assert pin.state == pytest.approx(0.2667)
    pwm.close()


def test_adc_sensor_scaling_and_states():
    values = {0: 0.0, 1: 0.0}
    sensor = AdcPilotSensor(lambda ch: values[ch])

    def at(high_v, low_v=-12.0):
        # invert the default divider: +12 V -> 3.18 V, 0 V -> 1.71 V on a 3.3 V reference
        values[0] = (high_v * (3.18 - 1.71) / 12 + 1.71) / 3.3
        values[1] = (low_v * (3.18 - 1.71) / 12 + 1.71) / 3.3
        return sensor.read_state()

    assert at(12.0) is CpState.A
    assert sensor.high_v == pytest.approx(12.0)
    assert at(9.0) is CpState.B
    assert at(6.0) is CpState.C
    assert at(0.0) is CpState.E
    assert at(-12.0) is CpState.F
