"""The control pilot's 1 kHz PWM from the Pi's hardware PWM block, through `/sys/class/pwm`.

Wiring: the PWM pin (GPIO18 by default) drives a comparator or op-amp on an isolated +-12 V
supply, whose output reaches the CP contact through 1 kOhm (IEC 61851-1 Annex A). A
non-inverting front end makes 100 % duty = +12 V DC (X1, "pilot on, no offer") and 0 % =
-12 V DC (state F); an inverting one needs `invert = true`.

Overlay in /boot/firmware/config.txt: `dtoverlay=pwm,pin=18,func=2` (Pi 4 and Pi 5; on a Pi 5
GPIO18 is channel 2 of `1f00098000.pwm`, on a Pi 4 channel 0 of `fe20c000.pwm`). The chip is
found by its device name, never by its number: pwmchip numbers change between kernels.

Permissions: the service user must be in group `gpio`, and `systemd/99-chargectl-pwm.rules`
makes the sysfs files group-writable (stock Pi OS does not).

Failure: a missing chip or permission raises `DriverUnavailable` with the fix in the message;
a failing write raises `DriverIOError`. `close()` leaves the pilot at +12 V (X1) and the channel
exported: kernel PWM keeps running after the process ends, so the last level must be the safe
one, and an external hardware watchdog must guard the contactor (see docs/hardware.md).
"""

from __future__ import annotations

import time
from pathlib import Path

from hw.errors import DriverIOError, DriverUnavailable

PERIOD_NS = 1_000_000  # 1 kHz
# Platform devices of the PWM blocks, newest Pi first.
KNOWN_CHIPS = ("1f00098000.pwm", "fe20c000.pwm", "3f20c000.pwm", "2020c000.pwm")
OVERLAY_FIX = (
    "add 'dtoverlay=pwm,pin=18,func=2' to /boot/firmware/config.txt and reboot "
    "(check with: ls -l /sys/class/pwm/)"
)
PERMISSION_FIX = (
    "add the service user to group gpio and install systemd/99-chargectl-pwm.rules "
    "(sudo systemd/install.sh does both), then reboot or run: sudo udevadm trigger"
)


def find_chip(root: Path, chip: str = "auto") -> Path:
    """The pwmchip directory whose device is `chip` (or the first known Pi PWM block)."""
    class_dir = root / "class" / "pwm"
    try:
        chips = sorted(class_dir.glob("pwmchip*"))
    except OSError as exc:
        raise DriverUnavailable(f"cannot list {class_dir}: {exc.strerror}") from None
    devices = {}
    for c in chips:
        try:
            devices[(c / "device").resolve().name] = c
        except OSError:
            continue
    if chip != "auto":
        if chip in devices:
            return devices[chip]
        raise DriverUnavailable(
            f"no PWM chip with device {chip!r} under {class_dir} (found: "
            f"{', '.join(sorted(devices)) or 'none'}); {OVERLAY_FIX}"
        )
    for name in KNOWN_CHIPS:
        if name in devices:
            return devices[name]
    if len(devices) == 1:
        return next(iter(devices.values()))
    raise DriverUnavailable(
        f"no Raspberry Pi PWM block under {class_dir} (found: "
        f"{', '.join(sorted(devices)) or 'none'}); {OVERLAY_FIX}"
    )


class SysfsPwm:
    """A pilot output (`set_duty`, `close`) on one kernel PWM channel."""

    def __init__(
        self,
        chip: str = "auto",
        channel: int = 0,
        *,
        root: Path = Path("/sys"),
        period_ns: int = PERIOD_NS,
        invert: bool = False,
        export_timeout_s: float = 2.0,
    ) -> None:
        self.chip_dir = find_chip(root, chip)
        self.channel = channel
        self.period_ns = period_ns
        self.invert = invert
        self.dir = self.chip_dir / f"pwm{channel}"
        self._export(export_timeout_s)
        # duty 0 before the period (EINVAL otherwise), then the safe level, then enable.
        self._write("duty_cycle", "0")
        self._write("period", str(period_ns))
        self.set_duty(100.0)
        self._write("enable", "1")

    def _export(self, timeout_s: float) -> None:
        if not self.dir.exists():
            try:
                (self.chip_dir / "export").write_text(f"{self.channel}\n")
            except PermissionError:
                raise DriverUnavailable(
                    f"no permission to export PWM channel {self.channel} of {self.chip_dir}: "
                    f"{PERMISSION_FIX}"
                ) from None
            except OSError as exc:
                raise DriverUnavailable(
                    f"cannot export PWM channel {self.channel} of {self.chip_dir}: "
                    f"{exc.strerror} (does the chip have that many channels? see its npwm)"
                ) from None
        # udev applies the group permissions shortly after the export.
        deadline = time.monotonic() + timeout_s
        while True:
            enable = self.dir / "enable"
            try:
                with enable.open("r+"):
                    return
            except FileNotFoundError:
                pass
            except PermissionError:
                if time.monotonic() >= deadline:
                    raise DriverUnavailable(
                        f"no permission to write {enable}: {PERMISSION_FIX}"
                    ) from None
            if time.monotonic() >= deadline:
                raise DriverUnavailable(f"{self.dir} did not appear after export; {OVERLAY_FIX}")
            time.sleep(0.01)

    def _write(self, name: str, value: str) -> None:
        path = self.dir / name
        try:
            path.write_text(value + "\n")
        except PermissionError:
            raise DriverUnavailable(f"no permission to write {path}: {PERMISSION_FIX}") from None
        except OSError as exc:
            raise DriverIOError(f"writing {value} to {path} failed: {exc.strerror}") from exc

    def set_duty(self, duty_percent: float) -> None:
        if not 0.0 <= duty_percent <= 100.0:
            raise ValueError(f"duty {duty_percent} % outside 0..100")
        pct = 100.0 - duty_percent if self.invert else duty_percent
        self._write("duty_cycle", str(round(self.period_ns * pct / 100.0)))

    def read_duty(self) -> float:
        path = self.dir / "duty_cycle"
        try:
            raw = int(path.read_text().strip())
        except (OSError, ValueError) as exc:
            raise DriverIOError(f"reading {path} failed: {exc}") from exc
        pct = raw * 100.0 / self.period_ns
        return 100.0 - pct if self.invert else pct

    def close(self) -> None:
        """Leave the pilot at +12 V (X1), enabled and exported."""
        self.set_duty(100.0)
