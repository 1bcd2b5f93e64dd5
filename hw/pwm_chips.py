"""Which `/sys/class/pwm/pwmchip*` is the Pi's PWM block, and the fixes when it is missing.

Separate from the PWM device (`hw.pwm_sysfs`) because it is board knowledge, not PWM: the platform
device names of the PWM blocks of each Pi generation and the channel GPIO18 uses on each, found
by name because pwmchip numbers change between kernels. The device and its check-hw probe both
start here, and a new Pi is one line in `KNOWN_CHIPS`.
"""

from __future__ import annotations

import os
from pathlib import Path

from hw.errors import DriverUnavailable

# Platform devices of the Pi PWM blocks, newest Pi first, with the channel that GPIO18 uses.
KNOWN_CHIPS: dict[str, int] = {
    "1f00098000.pwm": 2,  # Pi 5 (RP1): GPIO12/13 = ch 0/1, GPIO18/19 = ch 2/3
    "fe20c000.pwm": 0,  # Pi 4
    "3f20c000.pwm": 0,  # Pi 3 / Zero 2
    "2020c000.pwm": 0,  # Pi 1 / Zero
}
OVERLAY_FIX = (
    "add 'dtoverlay=pwm,pin=18,func=2' to /boot/firmware/config.txt and reboot "
    "(check with: ls -l /sys/class/pwm/)"
)
PERMISSION_FIX = (
    "install systemd/99-chargectl-pwm.rules into /etc/udev/rules.d/ and add the service user "
    "to group gpio (sudo systemd/install.sh does both), then run: "
    "sudo udevadm trigger --subsystem-match=pwm"
)


def _chip_devices(root: Path) -> dict[str, Path]:
    """pwmchip directories by the name of the platform device behind them."""
    class_dir = root / "class" / "pwm"
    try:
        chips = sorted(class_dir.iterdir())
    except FileNotFoundError:
        raise DriverUnavailable(
            f"{class_dir} does not exist: no PWM support; {OVERLAY_FIX}"
        ) from None
    except OSError as exc:
        raise DriverUnavailable(f"cannot list {class_dir}: {exc.strerror}; {OVERLAY_FIX}") from None
    devices: dict[str, Path] = {}
    for chip in chips:
        if not chip.name.startswith("pwmchip"):
            continue
        try:
            device = Path(os.path.realpath(chip / "device")).name
        except OSError:
            continue
        devices[device] = chip
    return devices


def find_chip(root: Path, chip: str = "auto") -> tuple[Path, str]:
    """The pwmchip directory whose platform device is `chip` ('auto': the first Pi PWM block),
    and that device's name."""
    devices = _chip_devices(root)
    found = ", ".join(sorted(devices)) or "none"
    if chip != "auto":
        if chip in devices:
            return devices[chip], chip
        raise DriverUnavailable(
            f"no PWM chip with device {chip!r} under {root}/class/pwm (found: {found}); "
            f"{OVERLAY_FIX}"
        )
    for name in KNOWN_CHIPS:
        if name in devices:
            return devices[name], name
    raise DriverUnavailable(
        f"no Raspberry Pi PWM block under {root}/class/pwm (found: {found}); {OVERLAY_FIX}"
    )


def default_channel(device: str) -> int:
    """The channel GPIO18 uses on this PWM block (0 on a block we do not know)."""
    return KNOWN_CHIPS.get(device, 0)
