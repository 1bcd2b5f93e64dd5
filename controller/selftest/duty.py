"""Measuring the pilot's duty cycle and frequency on the wire.

On a Pi the PWM pin is looped back (through 1 kOhm) to a spare input, and the duty comes from
the input's edge timestamps; that checks the overlay, the pin mux and the kernel PWM, which the
kernel's own `duty_cycle` file cannot. Edge timestamps carry interrupt latency (tens of us), so
the median of a second's worth of periods is used.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from typing import Any, Protocol


class DutyMeter(Protocol):
    """Where a duty measurement comes from, said in the report."""

    source: str

    def measure(self, seconds: float = 1.0) -> tuple[float, float]:
        """Frequency in Hz and duty in percent of the high time."""

    def close(self) -> None: ...


class EdgeDutyMeter:
    """Duty and frequency from a loopback input's edges (gpiozero pin callbacks)."""

    def __init__(self, gpio: int, pin_factory: Any = None) -> None:
        from gpiozero import Device

        if pin_factory is None:
            Device.ensure_pin_factory()
            pin_factory = Device.pin_factory
        self.source = f"loopback GPIO{gpio}"
        self.factory = pin_factory
        self.pin = pin_factory.pin(gpio)
        self.pin.function = "input"
        self.pin.pull = "down"
        self._edges: list[tuple[Any, bool]] = []
        self._lock = threading.Lock()
        self.pin.edges = "both"
        self.pin.when_changed = self._changed

    def _changed(self, ticks: Any, state: bool) -> None:
        with self._lock:
            self._edges.append((ticks, bool(state)))

    def capture(self, seconds: float) -> list[tuple[Any, bool]]:
        with self._lock:
            self._edges.clear()
        time.sleep(seconds)
        with self._lock:
            return list(self._edges)

    def level(self) -> int:
        return int(self.pin.state)

    def measure(self, seconds: float = 1.0) -> tuple[float, float]:
        captured = self.capture(seconds)
        diff = self.factory.ticks_diff
        rises = [t for t, high in captured if high]
        periods = [diff(b, a) for a, b in itertools.pairwise(rises)]
        highs = [
            diff(t1, t0) for (t0, s0), (t1, s1) in itertools.pairwise(captured) if s0 and not s1
        ]
        if len(periods) < 100 or not highs:
            return 0.0, 100.0 * self.level()  # a steady level: X1 reads 100 %, F 0 %
        period_s = statistics.median(periods)
        return 1.0 / period_s, 100.0 * statistics.median(highs) / period_s

    def close(self) -> None:
        self.pin.when_changed = None
        self.pin.close()


class KernelDutyMeter:
    """The kernel's own view (period and duty_cycle files): used when no loopback is wired,
    and said so in the report, since it does not prove the signal reaches the pin."""

    source = "kernel duty_cycle file (no loopback wired)"

    def __init__(self, read_duty: Any, period_ns: int) -> None:
        self._read_duty = read_duty
        self._period_ns = period_ns

    def measure(self, seconds: float = 1.0) -> tuple[float, float]:
        return 1e9 / self._period_ns, float(self._read_duty())

    def close(self) -> None:
        return None
