"""Reading the control pilot back through an MCP3002/3004/3008 ADC behind peak detectors.

Wiring: CP -> resistive divider with offset into 0..3.3 V -> positive and negative peak
detectors (with reset) -> ADC channels `adc_positive_channel` and `adc_negative_channel`. Linux
user space cannot sample the 1 kHz PWM's levels reliably, so the peak detectors hold the high
and the low level for the ADC. The default scaling is a divider mapping +12 V to 3.18 V, 0 V to
1.71 V and -12 V to 0.25 V; measure yours and set `volts_per_unit` and `offset_v`.

Overlay: `dtparam=spi=on` in /boot/firmware/config.txt; permissions: group `spi`
(/dev/spidev0.0).

Failure: an ADC that cannot be opened raises `DriverUnavailable` with the fix; a failed read
raises `DriverIOError`, and the driver then puts the outputs in the safe state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hw.base import CpState
from hw.errors import DriverIOError, DriverUnavailable
from hw.iec61851 import CpClassifier, VoltageBands

SPI_FIX = (
    "enable SPI (dtparam=spi=on in /boot/firmware/config.txt, then reboot) and add the "
    "service user to group spi (ls -l /dev/spidev*)"
)


class AdcPilotSensor:
    def __init__(
        self,
        read_channel: Callable[[int], float],
        *,
        positive_channel: int = 0,
        negative_channel: int = 1,
        volts_per_unit: float = 3.3 * 12 / (3.18 - 1.71),
        offset_v: float = -1.71 * 12 / (3.18 - 1.71),
        bands: VoltageBands | None = None,
        closer: Callable[[], None] | None = None,
    ) -> None:
        """`read_channel(n)` returns channel n as 0.0..1.0 of the ADC's reference."""
        self._read = read_channel
        self.positive_channel = positive_channel
        self.negative_channel = negative_channel
        self.volts_per_unit = volts_per_unit
        self.offset_v = offset_v
        self.classifier = CpClassifier(bands)
        self.high_v = 0.0
        self.low_v = 0.0
        self._closer = closer

    def volts(self, fraction: float) -> float:
        return fraction * self.volts_per_unit + self.offset_v

    def read_state(self) -> CpState:
        try:
            self.high_v = self.volts(self._read(self.positive_channel))
            self.low_v = self.volts(self._read(self.negative_channel))
        except OSError as exc:
            raise DriverIOError(f"pilot ADC read failed: {exc}") from exc
        return self.classifier.classify(self.high_v, self.low_v)

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def mcp300x_sensor(
    adc: str = "mcp3004",
    *,
    positive_channel: int = 0,
    negative_channel: int = 1,
    spi_port: int = 0,
    spi_device: int = 0,
    pin_factory: Any = None,
) -> AdcPilotSensor:
    """The pilot read-back on a gpiozero MCP300x over hardware SPI."""
    import gpiozero

    cls = {"mcp3002": gpiozero.MCP3002, "mcp3004": gpiozero.MCP3004, "mcp3008": gpiozero.MCP3008}[
        adc
    ]
    channels: dict[int, Any] = {}
    try:
        for ch in {positive_channel, negative_channel}:
            channels[ch] = cls(
                channel=ch, port=spi_port, device=spi_device, pin_factory=pin_factory
            )
    except (gpiozero.GPIOZeroError, OSError) as exc:
        for dev in channels.values():
            dev.close()
        raise DriverUnavailable(
            f"{adc.upper()} on SPI {spi_port}.{spi_device}: {exc}; {SPI_FIX}"
        ) from None

    def close() -> None:
        for dev in channels.values():
            dev.close()

    return AdcPilotSensor(
        lambda ch: float(channels[ch].value),
        positive_channel=positive_channel,
        negative_channel=negative_channel,
        closer=close,
    )
