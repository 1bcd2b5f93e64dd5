"""Relays and logic levels through gpiozero: the contactor, its feedback, the watchdog output,
and the check-hw probe of those pins. The software-timed pilot PWM (only a warned fallback) is
`hw.gpio_pwm.GpiozeroPwm`, claiming pins and the pin factory are `hw.gpio_pins`; both are
importable from here as before.

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

from typing import Any

from hw.errors import DriverIOError, DriverUnavailable
from hw.gpio_pins import GPIO_FIX as GPIO_FIX
from hw.gpio_pins import PIN_FACTORY_FIX as PIN_FACTORY_FIX
from hw.gpio_pins import claim_pin
from hw.gpio_pins import probe_pin_factory as probe_pin_factory
from hw.gpio_pwm import GpiozeroPwm as GpiozeroPwm
from hw.gpio_pwm import PWMSoftwareFallback as PWMSoftwareFallback
from hw.probe import ProbeResult


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

        self._relay = claim_pin(
            DigitalOutputDevice,
            relay_pin,
            active_high=active_high,
            initial_value=False,
            pin_factory=pin_factory,
        )
        self._feedback: Any = None
        if feedback_pin is not None:
            try:
                self._feedback = claim_pin(
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

        self._out = claim_pin(
            DigitalOutputDevice, pin, initial_value=False, pin_factory=pin_factory
        )
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
                claim_pin(DigitalInputDevice, feedback_pin, pin_factory=pin_factory).close()
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
