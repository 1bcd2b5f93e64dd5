"""Relays and logic levels through gpiozero: the contactor, its feedback, the watchdog output,
and (only as a warned fallback) a software-timed pilot PWM.

Wiring:
* contactor: a relay or SSR on `relay_pin` switches the coil of a normally-open contactor.
  Active high by default (`active_high=False` for low-triggered relay boards). GPIOs come up as
  inputs at boot, so the relay driver must be pulled to "off" (e.g. 10 kOhm to GND on the
  transistor base): an unpowered or floating pin must mean "contactor open".
* feedback (optional): an auxiliary NO contact of the contactor on `feedback_pin`, to 3.3 V
  with a pull-down (`feedback_pull_up=False`, default) or to GND with the internal pull-up
  (`feedback_pull_up=True`, then a closed contact reads low and is inverted for you).
* watchdog (optional but required for a real installation): `GpioHeartbeat` toggles a pin on
  every poll. An external retriggerable monostable (74HC123, a 555 in missing-pulse mode, or a
  small MCU) must hold the contactor's coil supply only while it sees edges, so a crashed or
  hung service drops the contactor: the kernel PWM keeps offering current after our process
  dies.

Overlay: none needed. Permissions: the service user in group `gpio` (/dev/gpiochip*).

Failure behaviour: a pin that cannot be claimed (wrong number, in use, no permission) raises
`DriverUnavailable` with the fix; a failing write raises `DriverIOError`. `GpioContactor.close()`
opens the relay before it releases the pins. The pin factory is injectable (`pin_factory=`);
tests use `MockFactory(pin_class=MockPWMPin)`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from hw.errors import DriverIOError, DriverUnavailable
from hw.pilot import PilotSignal
from hw.probe import ProbeResult

GPIO_FIX = (
    "check the pin number (BCM numbering), that no other program (or a running chargectl) "
    "uses it, and that the service user is in group gpio (ls -l /dev/gpiochip*)"
)


class PWMSoftwareFallback(RuntimeWarning):
    """The pilot PWM is software-timed: its jitter breaks IEC 61851-1's +-5 us; not for a car."""


def _claim(factory: Callable[..., Any], pin: int | str, **kwargs: Any) -> Any:
    from gpiozero import GPIOZeroError

    try:
        return factory(pin, **kwargs)
    except (GPIOZeroError, OSError) as exc:
        raise DriverUnavailable(f"GPIO{pin}: {exc}; {GPIO_FIX}") from None


class GpioContactor:
    """The contactor relay and its optional feedback input (`hw.direct_pilot.Contactor`)."""

    def __init__(
        self,
        relay_pin: int | str,
        *,
        active_high: bool = True,
        feedback_pin: int | str | None = None,
        feedback_pull_up: bool = False,
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
        self._feedback: Any = None
        if feedback_pin is not None:
            try:
                self._feedback = _claim(
                    DigitalInputDevice,
                    feedback_pin,
                    pull_up=feedback_pull_up,
                    pin_factory=pin_factory,
                )
            except DriverUnavailable:
                self._relay.close()
                raise
        self._closed = False

    @property
    def has_feedback(self) -> bool:
        return self._feedback is not None

    def set_closed(self, closed: bool) -> None:
        try:
            if closed:
                self._relay.on()
            else:
                self._relay.off()
        except Exception as exc:
            raise DriverIOError(f"contactor relay: {exc}") from exc

    def feedback(self) -> bool | None:
        if self._feedback is None:
            return None
        try:
            return bool(self._feedback.value)
        except Exception as exc:
            raise DriverIOError(f"contactor feedback input: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._relay.off()
        finally:
            self._relay.close()
            if self._feedback is not None:
                self._feedback.close()


class GpioPhaseSwitch:
    """The relay or contactor that connects L2 and L3 (`hw.base.PhaseSwitch`): energised = three
    phases, released = one. Built on the contactor's relay and feedback handling."""

    def __init__(
        self,
        relay_pin: int | str,
        *,
        active_high: bool = True,
        feedback_pin: int | str | None = None,
        feedback_pull_up: bool = False,
        pin_factory: Any = None,
    ) -> None:
        self._relay = GpioContactor(
            relay_pin,
            active_high=active_high,
            feedback_pin=feedback_pin,
            feedback_pull_up=feedback_pull_up,
            pin_factory=pin_factory,
        )

    @property
    def has_feedback(self) -> bool:
        return self._relay.has_feedback

    def set_phases(self, phases: int) -> None:
        self._relay.set_closed(phases == 3)

    def feedback(self) -> int | None:
        closed = self._relay.feedback()
        return None if closed is None else (3 if closed else 1)

    def close(self) -> None:
        self._relay.close()


class GpioHeartbeat:
    """Toggles a pin for an external hardware watchdog (`hw.direct_pilot.Heartbeat`)."""

    def __init__(self, pin: int | str, *, pin_factory: Any = None) -> None:
        from gpiozero import DigitalOutputDevice

        self._out = _claim(DigitalOutputDevice, pin, initial_value=False, pin_factory=pin_factory)
        self._closed = False

    def toggle(self) -> None:
        try:
            self._out.toggle()
        except Exception as exc:
            raise DriverIOError(f"watchdog output: {exc}") from exc

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._out.off()
        self._out.close()


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
        self._pwm = _claim(
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


async def probe(
    relay_pin: int | str,
    *,
    active_high: bool = True,
    feedback_pin: int | str | None = None,
    feedback_pull_up: bool = False,
    watchdog_pin: int | str | None = None,
    pin_factory: Any = None,
) -> list[ProbeResult]:
    """Can the contactor pins be claimed? The relay stays off; every pin is released again.

    One row per pin, even when an earlier one fails: a person fixing the wiring wants the whole
    list at once, not one error per run.
    """
    from gpiozero import DigitalInputDevice

    results: list[ProbeResult] = []
    try:
        contactor = GpioContactor(
            relay_pin,
            active_high=active_high,
            feedback_pin=feedback_pin,
            feedback_pull_up=feedback_pull_up,
            pin_factory=pin_factory,
        )
    except DriverUnavailable as exc:
        results.append(ProbeResult.failed(f"contactor relay GPIO{relay_pin}", exc))
        if feedback_pin is not None:
            name = f"contactor feedback GPIO{feedback_pin}"
            try:
                _claim(DigitalInputDevice, feedback_pin, pin_factory=pin_factory).close()
                results.append(ProbeResult(name, True, "claimed"))
            except DriverUnavailable as exc2:
                results.append(ProbeResult.failed(name, exc2))
    else:
        try:
            results.append(
                ProbeResult(f"contactor relay GPIO{relay_pin}", True, "claimed, left off")
            )
            if feedback_pin is not None:
                closed = contactor.feedback()
                name = f"contactor feedback GPIO{feedback_pin}"
                if closed:
                    results.append(
                        ProbeResult(
                            name,
                            False,
                            "reads closed while the relay is off",
                            "contactor welded, or the feedback wiring/pull is inverted "
                            "(feedback_pull_up)",
                        )
                    )
                else:
                    results.append(ProbeResult(name, True, "reads open, as commanded"))
        finally:
            contactor.close()
    if watchdog_pin is not None:
        try:
            beat = GpioHeartbeat(watchdog_pin, pin_factory=pin_factory)
        except DriverUnavailable as exc:
            results.append(ProbeResult.failed(f"watchdog output GPIO{watchdog_pin}", exc))
        else:
            beat.close()
            results.append(ProbeResult(f"watchdog output GPIO{watchdog_pin}", True, "claimed"))
    return results


PIN_FACTORY_FIX = (
    "install lgpio into the service's venv (systemd/install.sh does on aarch64 and armv7l: "
    "sudo /opt/chargectl/venv/bin/pip install lgpio), or name one with GPIOZERO_PIN_FACTORY"
)


def probe_pin_factory() -> ProbeResult:
    """Which gpiozero backend drives the pins, and why any preferred one was skipped.

    gpiozero tries lgpio, RPi.GPIO, pigpio and native in turn; only the warnings say what
    failed on the way, so they are shown with the name of the factory in use.
    """
    from gpiozero import Device
    from gpiozero.exc import BadPinFactory, PinFactoryFallback

    name = "GPIO pin factory"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PinFactoryFallback)
        try:
            Device.ensure_pin_factory()
            factory = Device.pin_factory
        except (BadPinFactory, ImportError, OSError, RuntimeError) as exc:
            tried = "; ".join(str(w.message) for w in caught)
            detail = f"none usable ({exc})" + (f": {tried}" if tried else "")
            return ProbeResult(name, False, detail, PIN_FACTORY_FIX)
    detail = type(factory).__name__
    chosen = os.environ.get("GPIOZERO_PIN_FACTORY")
    if chosen:
        detail += f" (GPIOZERO_PIN_FACTORY={chosen})"
    skipped = [str(w.message) for w in caught if issubclass(w.category, PinFactoryFallback)]
    if skipped:
        detail += "; skipped: " + "; ".join(skipped)
    return ProbeResult(name, True, detail)
