"""A /sys tree with PWM chips in a temporary directory, and a stand-in for the kernel and udev.

The layout is the one a Pi 5 shows: /sys/class/pwm/pwmchipN is a relative symlink into
/sys/devices/platform/axi/1000120000.pcie/<device>/pwm/pwmchipN, whose `device` link points
back at the platform device. A background thread plays the PWM core: a number written to
`export` creates pwmN/ with its attribute files, one written to `unexport` removes it. With
`restricted=True` the files are read-only until `udev_delay_s` later (never, if that is None),
when they become group-writable as the udev rule makes them on a real Pi; `export` is then
read-only too unless `export_writable`. Tests drop the capability to override file modes.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

PI5_PWM = "1f00098000.pwm"
PI5_FAN = "1f0009c000.pwm"
PI4_PWM = "fe20c000.pwm"


class FakeSysfs:
    def __init__(
        self,
        root: Path,
        chips: dict[str, int] | None = None,
        *,
        npwm: int = 4,
        restricted: bool = False,
        udev_delay_s: float | None = None,
        export_writable: bool = True,
    ) -> None:
        self.root = root
        self.npwm = npwm
        self.restricted = restricted
        self.udev_delay_s = udev_delay_s
        self.exports: list[tuple[str, int]] = []
        self.unexports: list[tuple[str, int]] = []
        self.chips: dict[str, Path] = {}
        class_dir = root / "class" / "pwm"
        class_dir.mkdir(parents=True)
        for device, number in (chips or {PI5_FAN: 0, PI5_PWM: 2}).items():
            parent = "axi/1000120000.pcie" if device.startswith("1f") else "soc"
            platform = root / "devices" / "platform" / parent / device
            chip = platform / "pwm" / f"pwmchip{number}"
            chip.mkdir(parents=True)
            for name, text in (("export", ""), ("unexport", ""), ("npwm", f"{npwm}\n")):
                (chip / name).write_text(text)
            (chip / "device").symlink_to(Path("../..") / ".." / device)
            (class_dir / f"pwmchip{number}").symlink_to(os.path.relpath(chip, class_dir))
            if restricted and not export_writable:
                for name in ("export", "unexport"):
                    os.chmod(chip / name, 0o444)
            self.chips[device] = chip
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._kernel, daemon=True)
        self._thread.start()

    def channel(self, n: int, device: str = PI5_PWM) -> Path:
        return self.chips[device] / f"pwm{n}"

    def read(self, n: int, name: str, device: str = PI5_PWM) -> str:
        return (self.channel(n, device) / name).read_text().strip()

    def _kernel(self) -> None:
        while not self._stop.is_set():
            for device, chip in self.chips.items():
                for verb in ("export", "unexport"):
                    path = chip / verb
                    try:
                        text = path.read_text().strip()
                    except OSError:
                        continue
                    if not text:
                        continue
                    path.write_text("")
                    n = int(text)
                    if verb == "export" and n < self.npwm:
                        self.exports.append((device, n))
                        self._create(chip / f"pwm{n}")
                    elif verb == "unexport":
                        self.unexports.append((device, n))
                        shutil.rmtree(chip / f"pwm{n}", ignore_errors=True)
            time.sleep(0.002)

    def _create(self, d: Path) -> None:
        d.mkdir(exist_ok=True)
        names = ("period", "duty_cycle", "enable", "polarity")
        for name, value in zip(names, ("0", "0", "0", "normal"), strict=True):
            (d / name).write_text(value + "\n")
        if self.restricted:
            for name in names:
                os.chmod(d / name, 0o444)
            if self.udev_delay_s is not None:
                threading.Timer(self.udev_delay_s, self._udev, args=(d, names)).start()

    def _udev(self, d: Path, names: tuple[str, ...]) -> None:
        for name in names:
            os.chmod(d / name, 0o664)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
