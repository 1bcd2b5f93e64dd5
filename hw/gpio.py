"""Relays and logic inputs through gpiozero: the contactor, its feedback, a watchdog output,
and (only as a warned fallback) a software-timed pilot PWM.

Wiring: the contactor coil is switched by a relay or SSR on `contactor_gpio` (active high by
default; the contactor must be normally open, so an unpowered or floating pin means open). An
auxiliary contact of the contactor may be wired to `contactor_feedback_gpio` (closed = high).
`watchdog_gpio` toggles on every poll while the service is healthy; an external retriggerable
monostable (e.g. a 74HC123 or a small MCU) must drop the contactor when the toggling stops,
because kernel PWM keeps running after a crash.

Permissions: the service user in group `gpio` (/dev/gpiochip*). No overlay is needed.

Failure: a pin that cannot be claimed raises `DriverUnavailable` with the fix. `close()` opens
the contactor before it releases the pins.
"""

from __future__ import annotations

import warnings
from typing import Any

from hw.errors import DriverIOError, DriverUnavailable

GPIO_FIX = (
    "check the pin number, that no other program uses it, and that the service user is in "
    "group gpio (ls -l /dev/gpiochip*)"
)


class PWMSoftwareFallback(RuntimeWarning):
    """The pilot PWM is software-timed: jitter violates IEC 61851-1's +-5 us; not for a car."""


def _claim(factory: Any, *args: Any, **kwargs: Any) -> Any:
    from gpiozero import GPIOZeroError

    try:
        return factory(*args, **kwargs)
    except GPIOZeroError as exc:
        raise DriverUnavailable(f"GPIO {args[0] if args else ''}: {exc}; {GPIO_FIX}") from None
    except OSError as exc:
        raise DriverUnavailable(f"GPIO {args[0] if args else ''}: {exc}; {GPIO_FIX}") from None


class GpioContactor:
    def __init__(
        self,
        relay_pin: int,
        *,
        active_high: bool = True,
        feedback_pin: int | None = None,
        pin_factory: Any = None,
    ) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice

        self._relay = _claim(
            DigitalOutputDevice,
            relay_pin,
            active_high=active_high,
            initial_value=False,
            pin_factory=pin_factory,
        )
        self._feedback = None
        if feedback_pin is not None:
            self._feedback = _claim(
                DigitalInputDevice, feedback_pin, pull_up=False, pin_factory=pin_factory
            )

    def set_closed(self, closed: bool) -> None:
        try:
            if closed:
                self._relay.on()
            else:
                self._relay.off()
        except OSError as exc:
            raise DriverIOError(f"contactor relay: {exc}") from exc

    def feedback(self) -> bool | None:
        if self._feedback is None:
            return None
        return bool(self._feedback.value)

    def close(self) -> None:
        try:
            self._relay.off()
        finally:
            self._relay.close()
            if self._feedback is not None:
                self._feedback.close()


class GpioHeartbeat:
    """Toggles a pin for an external hardware watchdog."""

    def __init__(self, pin: int, *, pin_factory: Any = None) -> None:
        from gpiozero import DigitalOutputDevice

        self._out = _claim(DigitalOutputDevice, pin, initial_value=False, pin_factory=pin_factory)

    def toggle(self) -> None:
        self._out.toggle()

    def close(self) -> None:
        self._out.off()
        self._out.close()


class GpiozeroPwm:
    """A pilot output on gpiozero's PWMOutputDevice: for bench tests without the PWM overlay.

    Every gpiozero pin factory times this PWM in software (lgpio even rounds to whole percent),
    so it warns on construction. Use `SysfsPwm` to charge a car.
    """

    def __init__(self, pin: int, *, invert: bool = False, pin_factory: Any = None) -> None:
        from gpiozero import PWMOutputDevice

        warnings.warn(
            "pilot PWM through gpiozero is software-timed; use driver = 'sysfs_pwm' for a car",
            PWMSoftwareFallback,
            stacklevel=2,
        )
        self.invert = invert
        self._pwm = _claim(
            PWMOutputDevice,
            pin,
            frequency=1000,
            initial_value=0.0 if invert else 1.0,
            pin_factory=pin_factory,
        )

    def set_duty(self, duty_percent: float) -> None:
        pct = 100.0 - duty_percent if self.invert else duty_percent
        try:
            self._pwm.value = pct / 100.0
        except OSError as exc:
            raise DriverIOError(f"pilot PWM: {exc}") from exc

    def close(self) -> None:
        # Releasing the pin drives it low: -12 V (state F) on a non-inverting front end,
        # which a car reads as "EVSE not available".
        self._pwm.close()
