"""Claiming a GPIO through gpiozero, and which pin factory (backend) does the claiming.

Separate from the devices (`hw.gpio` relays and watchdog, `hw.gpio_pwm` the fallback pilot) because
it is the one place that knows gpiozero's backends: every device claims its pins through
`claim_pin()`, so a pin that cannot be had always fails the same way (`DriverUnavailable` with the
fix), and `probe_pin_factory()` tells `chargectl check-hw` which backend was chosen and why the
preferred ones were skipped.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from hw.errors import DriverUnavailable
from hw.probe import ProbeResult

GPIO_FIX = (
    "check the pin number (BCM numbering), that no other program (or a running chargectl) "
    "uses it, and that the service user is in group gpio (ls -l /dev/gpiochip*)"
)


def claim_pin(factory: Callable[..., Any], pin: int | str, **kwargs: Any) -> Any:
    """`factory(pin, **kwargs)`, with gpiozero's refusal turned into `DriverUnavailable` + fix."""
    from gpiozero import GPIOZeroError

    try:
        return factory(pin, **kwargs)
    except (GPIOZeroError, OSError) as exc:
        raise DriverUnavailable(f"GPIO{pin}: {exc}; {GPIO_FIX}") from None


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
