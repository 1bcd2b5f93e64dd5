"""The pilot PWM on gpiozero's `PWMOutputDevice`: a warned bench fallback, never for a car.

Separate from the relays in `hw.gpio` because it is the only GPIO device that speaks the pilot
(`PilotSignal`) and the only one that must not be used for charging: keeping it apart keeps the
contactor and watchdog code free of pilot imports and makes every use of the fallback explicit.
"""

from __future__ import annotations

import warnings
from typing import Any

from hw.errors import DriverIOError
from hw.gpio_pins import claim_pin
from hw.pilot import PilotSignal


class PWMSoftwareFallback(RuntimeWarning):
    """The pilot PWM is software-timed: its jitter breaks IEC 61851-1's +-5 us; not for a car."""


class GpiozeroPwm:
    """A pilot output on gpiozero's `PWMOutputDevice`: a bench fallback, never for a car.

    Every gpiozero pin factory times this PWM in software (lgpio also truncates the duty to
    whole percent, 0.6 A steps), so constructing it warns with `PWMSoftwareFallback`. Use
    `hw.pwm_sysfs.SysfsPwm` to charge a car. `close()` drives the X1 level and keeps the pin
    claimed: releasing it would let the line drop to -12 V (F) on a non-inverting front end;
    gpiozero releases it when the interpreter exits.
    """

    def __init__(
        self,
        pin: int | str,
        *,
        invert: bool = False,
        frequency_hz: float = 1000.0,
        pin_factory: Any = None,
    ) -> None:
        from gpiozero import PWMOutputDevice

        warnings.warn(
            "the pilot PWM through gpiozero is software-timed and misses IEC 61851-1's +-5 us; "
            "use driver = 'sysfs_pwm' for a car",
            PWMSoftwareFallback,
            stacklevel=2,
        )
        self.invert = invert
        self._pwm = claim_pin(
            PWMOutputDevice,
            pin,
            frequency=frequency_hz,
            initial_value=self._value(100.0),
            pin_factory=pin_factory,
        )

    def _value(self, duty_percent: float) -> float:
        percent = 100.0 - duty_percent if self.invert else duty_percent
        return min(1.0, max(0.0, percent / 100.0))

    def apply(self, signal: PilotSignal) -> None:
        try:
            self._pwm.value = self._value(signal.duty_percent)
        except Exception as exc:
            raise DriverIOError(f"pilot PWM: {exc}") from exc

    def close(self) -> None:
        self._pwm.value = self._value(100.0)
