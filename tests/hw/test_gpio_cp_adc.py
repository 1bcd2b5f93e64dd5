"""The gpiozero devices on gpiozero's own mock pins: contactor, feedback, watchdog output, the
warned PWM fallback, and the MCP3008 read-back through gpiozero's SPI code against an emulated
chip."""

from __future__ import annotations

import warnings

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin, MockSPIDevice

from hw.base import CpState
from hw.cp_adc import DEFAULT_OFFSET_V, DEFAULT_VOLTS_PER_UNIT, mcp300x_sensor
from hw.cp_adc import probe as adc_probe
from hw.errors import DriverIOError, DriverUnavailable
from hw.gpio import GpioContactor, GpioHeartbeat, GpiozeroPwm, PWMSoftwareFallback
from hw.gpio import probe as gpio_probe
from hw.pilot import PilotSignal


@pytest.fixture
def pins():
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


# --- contactor, feedback, watchdog ---------------------------------------------------------


def test_contactor_relay_and_feedback(pins):
    c = GpioContactor(17, feedback_pin=27, pin_factory=pins)
    relay, fb = pins.pin(17), pins.pin(27)
    assert c.has_feedback and relay.state == 0 and c.feedback() is False
    c.set_closed(True)
    assert relay.state == 1
    fb.drive_high()
    assert c.feedback() is True
    c.set_closed(False)
    assert relay.state == 0
    c.close()
    c.close()
    GpioContactor(17, pin_factory=pins).close()  # the pins were released


def test_low_triggered_relay_and_pulled_up_feedback(pins):
    c = GpioContactor(
        17, active_high=False, feedback_pin=27, feedback_pull_up=True, pin_factory=pins
    )
    relay, fb = pins.pin(17), pins.pin(27)
    assert relay.state == 1  # relay off = pin high on a low-triggered board
    c.set_closed(True)
    assert relay.state == 0
    assert c.feedback() is False  # pulled up, contact open
    fb.drive_low()
    assert c.feedback() is True
    c.set_closed(False)
    assert relay.state == 1
    c.close()


def test_close_opens_the_relay_first(pins):
    c = GpioContactor(17, pin_factory=pins)
    c.set_closed(True)
    relay = pins.pin(17)
    c.close()
    assert [round(s.state) for s in relay.states][-2:] == [1, 0]


def test_no_feedback_wiring(pins):
    c = GpioContactor(17, pin_factory=pins)
    assert not c.has_feedback and c.feedback() is None


@pytest.mark.parametrize("pin", [99, "GPIO99"])
def test_bad_pin_names_the_fix(pins, pin):
    with pytest.raises(DriverUnavailable, match="group gpio"):
        GpioContactor(pin, pin_factory=pins)


def test_pin_in_use_is_unavailable_and_releases_the_relay(pins):
    held = GpioHeartbeat(27, pin_factory=pins)
    with pytest.raises(DriverUnavailable, match="GPIO27"):
        GpioContactor(17, feedback_pin=27, pin_factory=pins)
    GpioContactor(17, pin_factory=pins).close()  # relay pin not leaked
    held.close()


def test_heartbeat_toggles(pins):
    beat = GpioHeartbeat(22, pin_factory=pins)
    for _ in range(4):
        beat.toggle()
    pin = pins.pin(22)
    assert [round(s.state) for s in pin.states] == [0, 1, 0, 1, 0]
    beat.close()
    assert pin.state == 0


class ContactClosedPin(MockPWMPin):
    """A feedback input wired to a contact that is closed: it overrides any pull resistor."""

    def _set_pull(self, value):
        super()._set_pull(value)
        self.drive_high()


async def test_probe_contactor(pins):
    results = await gpio_probe(17, feedback_pin=27, watchdog_pin=22, pin_factory=pins)
    assert [r.ok for r in results] == [True, True, True]
    pins.reset()
    pins.pin(27, pin_class=ContactClosedPin)
    results = await gpio_probe(17, feedback_pin=27, pin_factory=pins)
    assert not results[1].ok and "welded" in (results[1].fix or "")
    [bad] = await gpio_probe(99, pin_factory=pins)
    assert not bad.ok and "group gpio" in (bad.fix or "")


# --- the software PWM fallback -----------------------------------------------------------


def test_gpiozero_pwm_warns_and_drives_the_duty(pins):
    with pytest.warns(PWMSoftwareFallback):
        pwm = GpiozeroPwm(18, pin_factory=pins)
    pin = pins.pin(18)
    assert pin.frequency == 1000 and pin.state == 1.0  # starts at X1
    pwm.apply(PilotSignal.pwm(16))
    assert pin.state == pytest.approx(0.26667, abs=1e-5)
    pwm.apply(PilotSignal.f())
    assert pin.state == 0.0
    pwm.apply(PilotSignal.pwm(32))
    pwm.close()
    assert pin.state == 1.0 and pin.frequency == 1000  # X1 held, not released to -12 V


def test_gpiozero_pwm_inverted(pins):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PWMSoftwareFallback)
        pwm = GpiozeroPwm(18, invert=True, pin_factory=pins)
    pin = pins.pin(18)
    assert pin.state == 0.0
    pwm.apply(PilotSignal.pwm(16))
    assert pin.state == pytest.approx(0.73333, abs=1e-5)


# --- MCP3008 read-back ---------------------------------------------------------------------


class EmulatedMcp3008(MockSPIDevice):
    """The slave side of an MCP3008 on SPI0 CE0: start bit, single/diff, 3 channel bits, then
    a sample clock, a null bit and 10 data bits, MSB first."""

    def __init__(self, factory):
        super().__init__(11, 10, 9, 8, pin_factory=factory)
        self.counts = [0] * 8
        self.conversions = 0

    def set_volts(self, channel: int, cp_v: float) -> None:
        fraction = (cp_v - DEFAULT_OFFSET_V) / DEFAULT_VOLTS_PER_UNIT
        self.counts[channel] = max(0, min(1023, round(fraction * 1023)))

    def on_bit(self):
        bits = self.rx_buf
        if 1 in bits and len(bits) == bits.index(1) + 5:
            start = bits.index(1)
            channel = bits[start + 2] * 4 + bits[start + 3] * 2 + bits[start + 4]
            self.conversions += 1
            self.tx_word(0, 2)
            self.tx_word(self.counts[channel], 10)


@pytest.fixture
def spi():
    factory = MockFactory()  # SPI mock pins must not be PWM pins
    saved = Device.pin_factory
    Device.pin_factory = factory  # gpiozero's software SPI bus uses the default factory
    chip = EmulatedMcp3008(factory)
    yield factory, chip
    chip.close()
    factory.reset()
    Device.pin_factory = saved


@pytest.mark.parametrize(
    ("high_v", "low_v", "state"),
    [
        (12.0, 12.0, CpState.A),
        (9.0, -12.0, CpState.B),
        (6.0, -12.0, CpState.C),
        (3.0, -12.0, CpState.D),
        (0.0, 0.0, CpState.E),
        (-12.0, -12.0, CpState.F),
    ],
)
def test_mcp3008_levels_to_states(spi, high_v, low_v, state):
    factory, chip = spi
    chip.set_volts(0, high_v)
    chip.set_volts(1, low_v)
    sensor = mcp300x_sensor("mcp3008", pin_factory=factory)
    reading = sensor.read()
    assert reading.state is state
    assert reading.high_v == pytest.approx(high_v, abs=0.05)  # 10 bits: ~27 mV per count
    assert reading.low_v == pytest.approx(low_v, abs=0.05)
    sensor.close()


def test_peak_detectors_are_reset_after_each_read(spi):
    factory, chip = spi
    chip.set_volts(0, 9.0)
    chip.set_volts(1, -12.0)
    sensor = mcp300x_sensor("mcp3008", reset_pin=5, pin_factory=factory)
    reset = factory.pin(5)
    sensor.read()
    sensor.read()
    assert [round(s.state) for s in reset.states] == [0, 1, 0, 1, 0]
    assert chip.conversions == 4
    sensor.close()


def test_hysteresis_across_reads(spi):
    factory, chip = spi
    chip.set_volts(1, -12.0)
    sensor = mcp300x_sensor("mcp3008", pin_factory=factory)
    chip.set_volts(0, 9.0)
    assert sensor.read().state is CpState.B
    chip.set_volts(0, 7.45)  # under the 7.6 V edge, inside the hysteresis
    assert sensor.read().state is CpState.B
    chip.set_volts(0, 7.0)
    assert sensor.read().state is CpState.C
    sensor.close()


def test_read_failure_is_a_driver_error(spi):
    factory, _chip = spi
    sensor = mcp300x_sensor("mcp3008", pin_factory=factory)
    sensor.close()  # closed gpiozero devices raise on read
    with pytest.raises(DriverIOError, match="CP ADC read failed"):
        sensor.read()


def test_bad_adc_configuration(spi):
    factory, _ = spi
    with pytest.raises(DriverUnavailable, match="channels 0-1, not 2"):
        mcp300x_sensor("mcp3002", positive_channel=2, pin_factory=factory)
    with pytest.raises(DriverUnavailable, match="unknown ADC"):
        mcp300x_sensor("ads1115", pin_factory=factory)


@pytest.mark.filterwarnings("ignore::Warning")
def test_adc_without_spi_names_the_fix(pins):
    # No SPI device and no pin factory gpiozero could fall back to (as on a machine without
    # the SPI overlay): unavailable, with the fix.
    saved, Device.pin_factory = Device.pin_factory, None
    try:
        with pytest.raises(DriverUnavailable, match="dtparam=spi=on"):
            mcp300x_sensor("mcp3008", pin_factory=pins)
    finally:
        Device.pin_factory = saved


async def test_probe_adc(spi):
    factory, chip = spi
    chip.set_volts(0, 9.0)
    chip.set_volts(1, -12.0)
    [ok] = await adc_probe("mcp3008", pin_factory=factory)
    assert ok.ok and "state B" in ok.detail
    chip.counts[0] = 0  # -14 V on the high channel: wrong divider or a dead front end
    [bad] = await adc_probe("mcp3008", pin_factory=factory)
    assert not bad.ok and "volts_per_unit" in (bad.fix or "")
