"""Reading the control pilot back through an MCP3002/3004/3008 ADC behind peak detectors.

Why peak detectors: Linux user space cannot sample the high and low level of a 1 kHz PWM
reliably (each SPI transfer from Python takes longer than a 10 % pulse), so a positive and a
negative peak detector hold the high and the low level of the waveform for the ADC. Reading
happens read-then-reset: each poll reads what the detectors held since the previous poll, then
pulses their optional reset line, so a reading covers one poll interval (50-100 PWM periods) and
a car leaving C (the high level rising) shows in the very next reading.

Wiring: CP -> resistive divider with offset into 0..3.3 V (for example +12 V -> 3.18 V,
0 V -> 1.71 V, -12 V -> 0.25 V, the default scaling) -> buffer -> positive peak detector into
`positive_channel`, negative peak detector into `negative_channel` of the MCP300x on SPI0 CE0
(MOSI GPIO10, MISO GPIO9, SCLK GPIO11, CE0 GPIO8). An optional `reset_pin` (active high)
discharges both detectors. Measure your divider and set `volts_per_unit` (CP volts per full
ADC scale) and `offset_v` (CP volts at ADC 0): cp_v = fraction * volts_per_unit + offset_v.

Overlay: `dtparam=spi=on` in /boot/firmware/config.txt. Permissions: the service user in group
`spi` (/dev/spidev0.*) and `gpio` (reset line).

Failure behaviour: an ADC that cannot be opened raises `DriverUnavailable` with the fix; a
failed read raises `DriverIOError`, which the direct-pilot driver turns into a fault with the
outputs in the safe state until readings come back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hw.errors import DriverIOError, DriverUnavailable
from hw.iec61851 import DEFAULT_BANDS, CpBands, CpClassifier, CpReading
from hw.probe import ProbeResult

SPI_FIX = (
    "enable SPI (dtparam=spi=on in /boot/firmware/config.txt, then reboot) and add the "
    "service user to group spi (ls -l /dev/spidev*)"
)
# A divider mapping +12 V -> 3.18 V, 0 V -> 1.71 V and -12 V -> 0.25 V on a 3.3 V reference.
DEFAULT_VOLTS_PER_UNIT = 3.3 * 12 / (3.18 - 1.71)
DEFAULT_OFFSET_V = -1.71 * 12 / (3.18 - 1.71)
ADC_CHANNELS = {"mcp3002": 2, "mcp3004": 4, "mcp3008": 8}


class AdcCpSensor:
    """CP read-back from two ADC channels (`hw.direct_pilot.CpSensor`)."""

    def __init__(
        self,
        read_channel: Callable[[int], float],
        *,
        positive_channel: int = 0,
        negative_channel: int = 1,
        volts_per_unit: float = DEFAULT_VOLTS_PER_UNIT,
        offset_v: float = DEFAULT_OFFSET_V,
        bands: CpBands = DEFAULT_BANDS,
        reset: Callable[[], None] | None = None,
        closer: Callable[[], None] | None = None,
    ) -> None:
        """`read_channel(n)` returns channel n as 0.0..1.0 of the ADC's reference; `reset`
        discharges the peak detectors."""
        self._read_channel = read_channel
        self.positive_channel = positive_channel
        self.negative_channel = negative_channel
        self.volts_per_unit = volts_per_unit
        self.offset_v = offset_v
        self.classifier = CpClassifier(bands)
        self._reset = reset
        self._closer = closer
        self._closed = False

    def volts(self, fraction: float) -> float:
        return fraction * self.volts_per_unit + self.offset_v

    def read(self) -> CpReading:
        try:
            high_v = self.volts(self._read_channel(self.positive_channel))
            low_v = self.volts(self._read_channel(self.negative_channel))
            if self._reset is not None:
                self._reset()
        except Exception as exc:
            raise DriverIOError(f"CP ADC read failed: {exc}") from exc
        return self.classifier.reading(high_v, low_v)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._closer is not None:
            self._closer()


def mcp300x_sensor(
    adc: str = "mcp3004",
    *,
    positive_channel: int = 0,
    negative_channel: int = 1,
    spi_port: int = 0,
    spi_device: int = 0,
    volts_per_unit: float = DEFAULT_VOLTS_PER_UNIT,
    offset_v: float = DEFAULT_OFFSET_V,
    reset_pin: int | str | None = None,
    bands: CpBands = DEFAULT_BANDS,
    max_voltage: float = 3.3,
    pin_factory: Any = None,
) -> AdcCpSensor:
    """The CP read-back on a gpiozero MCP3002/3004/3008 over SPI."""
    import gpiozero

    classes = {
        "mcp3002": gpiozero.MCP3002,
        "mcp3004": gpiozero.MCP3004,
        "mcp3008": gpiozero.MCP3008,
    }
    if adc not in classes:
        raise DriverUnavailable(f"unknown ADC {adc!r}; use one of {', '.join(classes)}")
    for ch in (positive_channel, negative_channel):
        if not 0 <= ch < ADC_CHANNELS[adc]:
            raise DriverUnavailable(
                f"{adc.upper()} has channels 0-{ADC_CHANNELS[adc] - 1}, not {ch}; "
                "fix adc_positive_channel / adc_negative_channel"
            )
    devices: list[Any] = []
    channels: dict[int, Any] = {}
    try:
        for ch in dict.fromkeys((positive_channel, negative_channel)):
            dev = classes[adc](
                channel=ch,
                port=spi_port,
                device=spi_device,
                max_voltage=max_voltage,
                pin_factory=pin_factory,
            )
            devices.append(dev)
            channels[ch] = dev
        reset_dev = None
        if reset_pin is not None:
            reset_dev = gpiozero.DigitalOutputDevice(
                reset_pin, initial_value=False, pin_factory=pin_factory
            )
            devices.append(reset_dev)
    except (gpiozero.GPIOZeroError, OSError) as exc:
        for dev in devices:
            dev.close()
        raise DriverUnavailable(
            f"{adc.upper()} on SPI {spi_port}.{spi_device}: {exc}; {SPI_FIX}"
        ) from None

    def close() -> None:
        for dev in devices:
            dev.close()

    def pulse_reset() -> None:
        assert reset_dev is not None
        reset_dev.on()
        reset_dev.off()

    return AdcCpSensor(
        lambda ch: float(channels[ch].value),
        positive_channel=positive_channel,
        negative_channel=negative_channel,
        volts_per_unit=volts_per_unit,
        offset_v=offset_v,
        bands=bands,
        reset=pulse_reset if reset_dev is not None else None,
        closer=close,
    )


async def probe(
    adc: str = "mcp3004",
    *,
    positive_channel: int = 0,
    negative_channel: int = 1,
    spi_port: int = 0,
    spi_device: int = 0,
    volts_per_unit: float = DEFAULT_VOLTS_PER_UNIT,
    offset_v: float = DEFAULT_OFFSET_V,
    pin_factory: Any = None,
) -> list[ProbeResult]:
    """Open the ADC, read the CP line once, and say what it shows."""
    name = f"CP read-back ({adc.upper()} on SPI {spi_port}.{spi_device})"
    try:
        sensor = mcp300x_sensor(
            adc,
            positive_channel=positive_channel,
            negative_channel=negative_channel,
            spi_port=spi_port,
            spi_device=spi_device,
            volts_per_unit=volts_per_unit,
            offset_v=offset_v,
            pin_factory=pin_factory,
        )
    except DriverUnavailable as exc:
        return [ProbeResult.failed(name, exc)]
    try:
        reading = sensor.read()
    except DriverIOError as exc:
        return [ProbeResult(name, False, str(exc), SPI_FIX)]
    finally:
        sensor.close()
    high_v = reading.high_v if reading.high_v is not None else float("nan")
    low_v = reading.low_v if reading.low_v is not None else float("nan")
    detail = f"high {high_v:+.1f} V, low {low_v:+.1f} V: state {reading.state}"
    if not -13.5 <= high_v <= 13.5:
        return [
            ProbeResult(
                name,
                False,
                detail,
                "the level is outside +-13.5 V: check the divider and volts_per_unit / offset_v",
            )
        ]
    return [ProbeResult(name, True, detail)]
