"""A /sys/class/pwm tree in a temporary directory, with a tiny stand-in for the kernel that
creates pwmN/ when a channel number is written to `export` (as the PWM core does)."""

import threading
import time
from pathlib import Path


class FakeSysfs:
    def __init__(self, root: Path, device: str = "1f00098000.pwm", npwm: int = 4, chip: int = 2):
        self.root = root
        platform = root / "devices" / "platform" / "axi" / "1000120000.pcie" / device
        self.chip = platform / "pwm" / f"pwmchip{chip}"
        self.chip.mkdir(parents=True)
        (self.chip / "export").write_text("")
        (self.chip / "unexport").write_text("")
        (self.chip / "npwm").write_text(f"{npwm}\n")
        (self.chip / "device").symlink_to(platform)
        cls = root / "class" / "pwm"
        cls.mkdir(parents=True)
        (cls / f"pwmchip{chip}").symlink_to(self.chip)
        self.npwm = npwm
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._kernel, daemon=True)
        self._thread.start()

    def _kernel(self):
        export = self.chip / "export"
        while not self._stop.is_set():
            text = export.read_text().strip()
            if text:
                n = int(text)
                if n < self.npwm:
                    d = self.chip / f"pwm{n}"
                    d.mkdir(exist_ok=True)
                    for name, value in (
                        ("period", "0"),
                        ("duty_cycle", "0"),
                        ("enable", "0"),
                        ("polarity", "normal"),
                    ):
                        (d / name).write_text(value + "\n")
                export.write_text("")
            time.sleep(0.002)

    def channel(self, n: int) -> Path:
        return self.chip / f"pwm{n}"

    def close(self):
        self._stop.set()
        self._thread.join(1)
