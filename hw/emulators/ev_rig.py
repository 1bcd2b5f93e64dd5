"""The EV-emulator rig of docs/hil.md as a circuit twin, so the HIL suite and `chargectl
selftest` also run in CI through the real driver code.

What is real and what is modelled: the charger's code writes the kernel PWM files (a /sys tree),
drives the relay and the car-side switches through gpiozero (mock pins), and reads the CP level
through gpiozero's MCP3008 SPI code. The twin sits where the copper would be: on every ADC
conversion it reads the PWM files and the switch pins, solves the CP circuit (generator, 1 kOhm,
the car's diode and resistors) and answers with the counts a real divider and ADC would give.
The contactor follows the relay pin and drives the feedback input after a contact delay; it can
be welded. A miswiring is a different map from switch to GPIO than the one the software expects.

The circuit itself is `hw.ev_rig_circuit`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hw.cp_adc import DEFAULT_OFFSET_V, DEFAULT_VOLTS_PER_UNIT
from hw.ev_rig_circuit import DEFAULT_SWITCH_GPIOS, RigSwitch, adc_counts, cp_levels_v


def _relay_pin_class(base: type[Any], on_change: Any) -> type[Any]:
    """A mock pin that tells the twin whenever gpiozero drives it (the relay coil)."""

    class RelayPin(base):  # type: ignore[misc]
        def _set_state(self, value: Any) -> None:
            super()._set_state(value)
            on_change(bool(self.state))

    return RelayPin


@dataclass
class RigFaults:
    """What can be wrong with a rig or a charger under test."""

    welded: bool = False
    """The contactor's main contacts stick: the feedback stays closed once it closed."""
    contact_delay_s: float = 0.015
    """Time from the relay pin to the auxiliary contact (a small contactor: 10-30 ms)."""
    wiring: dict[RigSwitch, int] = field(default_factory=lambda: dict(DEFAULT_SWITCH_GPIOS))
    """Which GPIO really drives each switch; differs from the software's map when miswired."""


class EvRigTwin:
    """The rig and the charger's analogue side, attached to a gpiozero `MockFactory` and a
    PWM channel directory; the MCP3008 answers on SPI0 CE0 of that factory."""

    def __init__(
        self,
        factory: Any,
        pwm_dir: Path,
        *,
        relay_gpio: int = 17,
        feedback_gpio: int | None = 27,
        faults: RigFaults | None = None,
        positive_channel: int = 0,
        negative_channel: int = 1,
        volts_per_unit: float = DEFAULT_VOLTS_PER_UNIT,
        offset_v: float = DEFAULT_OFFSET_V,
    ) -> None:
        from gpiozero.pins.mock import MockPin

        self.factory = factory
        self.pwm_dir = pwm_dir
        self.faults = faults or RigFaults()
        self.positive_channel = positive_channel
        self.negative_channel = negative_channel
        self.volts_per_unit = volts_per_unit
        self.offset_v = offset_v
        self.conversions = 0
        self.relay_changes = 0
        self.relay_energised = False
        self.feedback_gpio = feedback_gpio
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._feedback_closed = False
        factory.pin(relay_gpio, pin_class=_relay_pin_class(MockPin, self._relay_changed))
        self.adc = _twin_adc(factory, self)

    # ---------------------------------------------------------------- the wires

    def duty_percent(self) -> float:
        """The generator's high time as the kernel PWM holds it; a disabled or unexported
        channel idles low (-12 V), so it counts as 0 %."""
        try:
            enabled = (self.pwm_dir / "enable").read_text().strip() == "1"
            period = int((self.pwm_dir / "period").read_text())
            duty = int((self.pwm_dir / "duty_cycle").read_text())
        except (OSError, ValueError):
            return 0.0
        if not enabled or period <= 0:
            return 0.0
        return 100.0 * min(duty, period) / period

    def closed_switches(self) -> frozenset[RigSwitch]:
        closed = set()
        for switch, gpio in self.faults.wiring.items():
            pin = self.factory.pins.get(self._info(gpio))
            if pin is not None and pin.function == "output" and pin.state:
                closed.add(switch)
        return frozenset(closed)

    def _info(self, gpio: int) -> Any:
        [(_header, info)] = list(self.factory.board_info.find_pin(gpio))[:1]
        return info

    def cp_levels_v(self) -> tuple[float, float]:
        return cp_levels_v(self.duty_percent(), self.closed_switches())

    def counts(self, channel: int) -> int:
        high_v, low_v = self.cp_levels_v()
        if channel == self.positive_channel:
            cp_v = high_v
        elif channel == self.negative_channel:
            cp_v = low_v
        else:
            cp_v = self.offset_v  # unconnected inputs read 0
        return adc_counts(cp_v, self.volts_per_unit, self.offset_v)

    # ---------------------------------------------------------------- contactor

    @property
    def feedback_closed(self) -> bool:
        return self._feedback_closed

    def _relay_changed(self, energised: bool) -> None:
        with self._lock:
            self.relay_changes += 1
            self.relay_energised = energised
            seq = self.relay_changes
        delay_s = self.faults.contact_delay_s
        if delay_s <= 0:
            self._follow_coil(seq)
            return
        timer = threading.Timer(delay_s, self._follow_coil, args=(seq,))
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def _follow_coil(self, seq: int) -> None:
        """The contacts take the coil's state a contact delay after its last change; timers of
        earlier changes (threads may run them late or out of order) are superseded."""
        with self._lock:
            if seq != self.relay_changes:
                return
            if self.faults.welded and self._feedback_closed:
                return
            self._feedback_closed = self.relay_energised
            if self.feedback_gpio is None:
                return
            pin = self.factory.pin(self.feedback_gpio)
            if self._feedback_closed:
                pin.drive_high()
            else:
                pin.drive_low()

    def close(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        self.adc.close()


def _twin_mcp3008_class() -> type[Any]:
    from gpiozero.pins.mock import MockSPIDevice

    class TwinMcp3008(MockSPIDevice):  # type: ignore[misc]
        """The slave side of an MCP3008 on SPI0 CE0 (start bit, single/diff, 3 channel bits,
        a sample clock, a null bit, 10 data bits MSB first), converting the twin's CP level."""

        def __init__(self, factory: Any, twin: EvRigTwin) -> None:
            super().__init__(11, 10, 9, 8, pin_factory=factory)
            self.twin = twin

        def on_bit(self) -> None:
            bits = self.rx_buf
            if 1 in bits and len(bits) == bits.index(1) + 5:
                start = bits.index(1)
                channel = bits[start + 2] * 4 + bits[start + 3] * 2 + bits[start + 4]
                self.twin.conversions += 1
                self.tx_word(0, 2)
                self.tx_word(self.twin.counts(channel), 10)

    return TwinMcp3008


def _twin_adc(factory: Any, twin: EvRigTwin) -> Any:
    return _twin_mcp3008_class()(factory, twin)
