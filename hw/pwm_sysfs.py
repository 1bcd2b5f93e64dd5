"""The control pilot's 1 kHz PWM from the Pi's hardware PWM block, through `/sys/class/pwm`.

Why the kernel PWM: IEC 61851-1 allows +-5 us on the pulse width, which only a hardware timer
meets; every gpiozero pin factory times PWM in software (see `hw.gpio.GpiozeroPwm`).

Wiring: the PWM pin (GPIO18) drives a fast op-amp or comparator on an isolated +-12 V supply
(TL08x-class, several V/us; an LM358 is far too slow), compared against ~1.65 V, whose output
reaches the CP contact through 1 kOhm 1 % with a ~16 V TVS to PE. With this non-inverting front
end the three pilot levels are plain duty cycles of the one PWM channel, which stays enabled:

* PWM at the offered current: duty from `hw.iec61851` (16 A = 26.67 % = 266 667 ns high);
* X1 (+12 V DC, "no energy offered"): 100 % duty (duty_cycle = period), pin always high;
* F (-12 V DC, "EVSE not available"): 0 % duty, pin always low.

An inverting front end (high pin = -12 V) needs `invert=True`; the duty is then written as
100 % - D, so X1 becomes 0 %. The channel is never disabled to make a DC level, because the
idle level of a disabled channel is driver-defined.

Overlay in /boot/firmware/config.txt: `dtoverlay=pwm,pin=18,func=2`, then reboot. GPIO18 is
channel 2 of the RP1 block `1f00098000.pwm` on a Pi 5 and channel 0 of `fe20c000.pwm` on a
Pi 4 (`3f20c000.pwm` on a Pi 3). The chip is found by that device name, never by its number:
pwmchip numbers change between kernels (`hw.pwm_chips`). Leave `1f0009c000.pwm` alone (the
Pi 5 fan). On a Pi 5, `pinctrl get 18` must report PWM0_CHAN2. Do not claim the PWM pin as a
GPIO afterwards: that switches the pin away from the PWM block.

Permissions: stock Pi OS lets only root write sysfs PWM files. Install
`systemd/99-chargectl-pwm.rules` (udev; gives group `gpio` write access, including on channels
exported later) and put the service user into group `gpio`. Right after an export udev needs a
moment to apply the rule; opening retries permission errors for `export_timeout_s`.

Failure behaviour: a missing chip, channel or permission raises `DriverUnavailable` whose
message ends in the fix; a failed write raises `DriverIOError`. `close()` leaves the channel
exported, enabled and at X1: the kernel keeps generating the last level after our process ends,
so the last level must be the safe one, and an external hardware watchdog must guard the
contactor (docs/hardware.md).
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from hw.errors import DriverIOError, DriverUnavailable
from hw.pilot import PilotSignal
from hw.probe import ProbeResult
from hw.pwm_chips import KNOWN_CHIPS as KNOWN_CHIPS
from hw.pwm_chips import OVERLAY_FIX, PERMISSION_FIX, default_channel
from hw.pwm_chips import find_chip as find_chip

PERIOD_NS = 1_000_000  # 1 kHz


class SysfsPwm:
    """A pilot output on one kernel PWM channel (`hw.direct_pilot.PilotOutput`)."""

    def __init__(
        self,
        chip: str = "auto",
        channel: int | None = None,
        *,
        root: Path = Path("/sys"),
        period_ns: int = PERIOD_NS,
        invert: bool = False,
        export_timeout_s: float = 2.0,
    ) -> None:
        """`chip` is the platform device of the PWM block ('auto' finds the Pi's); `channel`
        None means the channel GPIO18 is on for that block; `root` is where sysfs is mounted."""
        if period_ns <= 0:
            raise ValueError(f"period_ns must be > 0, got {period_ns}")
        self.chip_dir, self.device = find_chip(Path(root), chip)
        self.channel = default_channel(self.device) if channel is None else channel
        self.period_ns = period_ns
        self.invert = invert
        self.dir = self.chip_dir / f"pwm{self.channel}"
        self._check_channel()
        self._export(export_timeout_s)
        self._configure()
        self._closed = False

    def __repr__(self) -> str:
        return f"SysfsPwm({self.device!r}, channel={self.channel}, dir={str(self.dir)!r})"

    # ------------------------------------------------------------------ setup

    def _check_channel(self) -> None:
        try:
            npwm = int((self.chip_dir / "npwm").read_text().strip())
        except (OSError, ValueError):
            return  # the export below reports a bad channel too
        if not 0 <= self.channel < npwm:
            raise DriverUnavailable(
                f"{self.device} has channels 0-{npwm - 1}, not {self.channel}; "
                "GPIO18 is channel 2 on a Pi 5 and channel 0 on a Pi 4"
            )

    def _export(self, timeout_s: float) -> None:
        if not self.dir.exists():
            try:
                (self.chip_dir / "export").write_text(f"{self.channel}\n")
            except PermissionError:
                raise DriverUnavailable(
                    f"no permission to export PWM channel {self.channel} of {self.device}; "
                    f"{PERMISSION_FIX}"
                ) from None
            except OSError as exc:
                if exc.errno != errno.EBUSY:  # EBUSY: exported meanwhile
                    raise DriverUnavailable(
                        f"cannot export PWM channel {self.channel} of {self.device}: "
                        f"{exc.strerror}; {OVERLAY_FIX}"
                    ) from None
        # The kernel creates pwmN/ at once; udev applies the group permissions a moment later.
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with (self.dir / "duty_cycle").open("r+"):
                    return
            except FileNotFoundError:
                problem = f"{self.dir} did not appear after the export; {OVERLAY_FIX}"
            except PermissionError:
                problem = f"no permission to write {self.dir}/duty_cycle; {PERMISSION_FIX}"
            except OSError as exc:
                raise DriverUnavailable(f"cannot open {self.dir}: {exc.strerror}") from None
            if time.monotonic() >= deadline:
                raise DriverUnavailable(problem)
            time.sleep(0.02)

    def _configure(self) -> None:
        """Period, the safe level, enable: in the order the kernel accepts."""
        current_period = self._read_int("period")
        if current_period != self.period_ns:
            # duty_cycle may never exceed the period: lower it before shrinking the period.
            if self._read_int("duty_cycle") > min(current_period, self.period_ns):
                self._write("duty_cycle", 0)
            self._write("period", self.period_ns)
        self._write("duty_cycle", self._duty_ns(100.0))
        self._write("enable", 1)

    # ------------------------------------------------------------------ I/O

    def _read_int(self, name: str) -> int:
        path = self.dir / name
        try:
            return int(path.read_text().strip())
        except PermissionError:
            raise DriverUnavailable(f"no permission to read {path}; {PERMISSION_FIX}") from None
        except OSError as exc:
            raise DriverIOError(f"reading {path} failed: {exc.strerror}") from None
        except ValueError:
            raise DriverIOError(f"{path} does not hold a number") from None

    def _write(self, name: str, value: int) -> None:
        path = self.dir / name
        try:
            with path.open("w") as f:
                f.write(f"{value}\n")
        except PermissionError:
            raise DriverUnavailable(f"no permission to write {path}; {PERMISSION_FIX}") from None
        except FileNotFoundError:
            raise DriverIOError(
                f"{path} is gone: was PWM channel {self.channel} unexported by another program?"
            ) from None
        except OSError as exc:
            hint = " (duty_cycle larger than period?)" if exc.errno == errno.EINVAL else ""
            raise DriverIOError(f"writing {value} to {path} failed: {exc.strerror}{hint}") from None

    def _duty_ns(self, duty_percent: float) -> int:
        percent = 100.0 - duty_percent if self.invert else duty_percent
        return min(self.period_ns, max(0, round(self.period_ns * percent / 100.0)))

    # --------------------------------------------------------------- public

    def apply(self, signal: PilotSignal) -> None:
        self._write("duty_cycle", self._duty_ns(signal.duty_percent))

    def set_duty(self, duty_percent: float) -> None:
        """Write a raw duty cycle in percent of the generator's high time (bench use)."""
        if not 0.0 <= duty_percent <= 100.0:
            raise ValueError(f"duty {duty_percent} % outside 0..100")
        self._write("duty_cycle", self._duty_ns(duty_percent))

    def read_duty(self) -> float:
        """The generator's high time in percent, as the kernel holds it."""
        percent = self._read_int("duty_cycle") * 100.0 / self.period_ns
        return 100.0 - percent if self.invert else percent

    @property
    def enabled(self) -> bool:
        return self._read_int("enable") == 1

    def close(self) -> None:
        """Leave the pilot at X1, the channel enabled and exported (see module docstring)."""
        if self._closed:
            return
        self._write("duty_cycle", self._duty_ns(100.0))
        self._closed = True


async def probe(
    chip: str = "auto", channel: int | None = None, *, root: Path = Path("/sys")
) -> list[ProbeResult]:
    """Is the PWM block there, and may this user drive it? Changes nothing on the pins."""
    name = "pilot PWM (sysfs)"
    try:
        chip_dir, device = find_chip(Path(root), chip)
    except DriverUnavailable as exc:
        return [ProbeResult.failed(name, exc)]
    ch = default_channel(device) if channel is None else channel
    results = [ProbeResult(f"{name}: chip", True, f"{device} is {chip_dir.name}")]
    try:
        npwm = int((chip_dir / "npwm").read_text().strip())
    except (OSError, ValueError):
        npwm = None
    if npwm is not None and not 0 <= ch < npwm:
        results.append(
            ProbeResult(
                f"{name}: channel",
                False,
                f"{device} has channels 0-{npwm - 1}, not {ch}",
                "GPIO18 is channel 2 on a Pi 5 and channel 0 on a Pi 4",
            )
        )
        return results
    channel_dir = chip_dir / f"pwm{ch}"
    if channel_dir.exists():
        files = [channel_dir / n for n in ("period", "duty_cycle", "enable")]
        blocked = [f.name for f in files if not os.access(f, os.W_OK)]
        if blocked:
            results.append(
                ProbeResult(
                    f"{name}: channel {ch}",
                    False,
                    f"exported, but {', '.join(blocked)} not writable",
                    PERMISSION_FIX,
                )
            )
        else:
            duty = "?"
            try:
                raw = int((channel_dir / "duty_cycle").read_text().strip())
                period = int((channel_dir / "period").read_text().strip())
                duty = f"{raw * 100 / period:.2f} %" if period else "no period"
            except (OSError, ValueError, ZeroDivisionError):
                pass
            results.append(
                ProbeResult(f"{name}: channel {ch}", True, f"exported and writable, duty {duty}")
            )
    elif os.access(chip_dir / "export", os.W_OK):
        results.append(
            ProbeResult(f"{name}: channel {ch}", True, "not exported yet; the service exports it")
        )
    else:
        results.append(
            ProbeResult(
                f"{name}: channel {ch}", False, f"{chip_dir}/export not writable", PERMISSION_FIX
            )
        )
    return results
