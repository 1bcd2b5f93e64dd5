"""Hardware-in-the-loop tests on a real Raspberry Pi (run with `pytest --hil`).

Loopback wiring (no car, no +-12 V stage needed; 3.3 V logic only):

* the PWM pin (GPIO18, physical pin 12) through a 1 kOhm resistor (protects both pins if one is
  misconfigured) to a spare input (`CHARGECTL_HIL_INPUT_PIN`, default GPIO23, physical pin 16):
  the duty cycle and frequency are measured from the input's edge timestamps;
* optionally a jumper from the relay pin (`CHARGECTL_HIL_RELAY_PIN`, e.g. GPIO17) to a feedback
  input (`CHARGECTL_HIL_FEEDBACK_PIN`, e.g. GPIO27): the contactor device reads its own command
  back. Without both variables that test is skipped.

Prerequisites: `dtoverlay=pwm,pin=18,func=2` in /boot/firmware/config.txt, the udev rule
systemd/99-chargectl-pwm.rules, the user in group gpio, lgpio installed (default pin factory on a
Pi 5). `CHARGECTL_HIL_PWM_CHIP` / `CHARGECTL_HIL_PWM_CHANNEL` override the PWM block and
channel (default: found by device, GPIO18's channel). `CHARGECTL_HIL_LOCK` (default
/tmp/chargectl-hil.lock) keeps two runs from driving the same pins. Stop chargectl first.

Edge timestamps jitter by tens of microseconds (interrupt latency), so the limits are generous:
the median period within 1000 +- 20 Hz and the median duty within one percentage point. This
checks the wiring, the overlay and the kernel PWM, not IEC's +-5 us: use a logic analyser for
that.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hw.pilot import PilotSignal

pytestmark = pytest.mark.hil

INPUT_PIN = int(os.environ.get("CHARGECTL_HIL_INPUT_PIN", "23"))
PWM_CHIP = os.environ.get("CHARGECTL_HIL_PWM_CHIP", "auto")
PWM_CHANNEL = os.environ.get("CHARGECTL_HIL_PWM_CHANNEL")
RELAY_PIN = os.environ.get("CHARGECTL_HIL_RELAY_PIN")
FEEDBACK_PIN = os.environ.get("CHARGECTL_HIL_FEEDBACK_PIN")
LOCK = Path(os.environ.get("CHARGECTL_HIL_LOCK", "/tmp/chargectl-hil.lock"))


@pytest.fixture(scope="module")
def lock() -> Iterator[None]:
    with LOCK.open("w") as f:
        deadline = time.monotonic() + 120
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{LOCK} is held by another HIL run for over 120 s")
                time.sleep(0.5)
        yield
        fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture
def pwm(lock: None) -> Iterator[Any]:
    from hw.pwm_sysfs import SysfsPwm

    channel = int(PWM_CHANNEL) if PWM_CHANNEL is not None else None
    out = SysfsPwm(PWM_CHIP, channel)
    yield out
    out.close()


class EdgeRecorder:
    """Timestamps of the loopback input's edges, from gpiozero's pin callbacks."""

    def __init__(self, pin_number: int) -> None:
        from gpiozero import Device

        Device.ensure_pin_factory()
        self.factory = Device.pin_factory
        assert self.factory is not None
        self.pin = self.factory.pin(pin_number)
        self.pin.function = "input"
        self.pin.pull = "down"
        self.edges: list[tuple[Any, bool]] = []
        self._lock = threading.Lock()
        self.pin.edges = "both"
        self.pin.when_changed = self._changed

    def _changed(self, ticks: Any, state: bool) -> None:
        with self._lock:
            self.edges.append((ticks, bool(state)))

    def capture(self, seconds: float) -> list[tuple[Any, bool]]:
        with self._lock:
            self.edges.clear()
        time.sleep(seconds)
        with self._lock:
            return list(self.edges)

    def close(self) -> None:
        self.pin.when_changed = None
        self.pin.close()


@pytest.fixture
def edges(lock: None) -> Iterator[EdgeRecorder]:
    rec = EdgeRecorder(INPUT_PIN)
    yield rec
    rec.close()


def _measure(rec: EdgeRecorder, seconds: float = 1.5) -> tuple[float, float]:
    """Median frequency (Hz) and duty (%) from rising/falling edge pairs."""
    captured = rec.capture(seconds)
    diff = rec.factory.ticks_diff
    rises = [t for t, high in captured if high]
    periods = [diff(b, a) for a, b in itertools.pairwise(rises)]
    highs = []
    for (t0, s0), (t1, s1) in itertools.pairwise(captured):
        if s0 and not s1:
            highs.append(diff(t1, t0))
    assert len(periods) > 500, f"only {len(periods)} periods seen: is GPIO18 wired to {INPUT_PIN}?"
    period_s = statistics.median(periods)
    return 1.0 / period_s, 100.0 * statistics.median(highs) / period_s


@pytest.mark.parametrize("current_a", [6, 16, 32, 63])
def test_duty_and_frequency_on_the_loopback(pwm: Any, edges: EdgeRecorder, current_a: float):
    signal = PilotSignal.pwm(current_a)
    pwm.apply(signal)
    time.sleep(0.1)
    freq_hz, duty = _measure(edges)
    assert 980 <= freq_hz <= 1020
    assert duty == pytest.approx(signal.duty_percent, abs=1.0)
    assert pwm.read_duty() == pytest.approx(signal.duty_percent, abs=0.001)


@pytest.mark.parametrize(("signal", "level"), [(PilotSignal.x1(), 1), (PilotSignal.f(), 0)])
def test_x1_and_f_are_steady_levels(pwm: Any, edges: EdgeRecorder, signal: PilotSignal, level):
    pwm.apply(signal)
    time.sleep(0.05)
    assert edges.capture(0.3) == []
    assert edges.pin.state == level
    assert pwm.enabled


def test_close_leaves_x1_running(lock: None, edges: EdgeRecorder):
    from hw.pwm_sysfs import SysfsPwm

    out = SysfsPwm(PWM_CHIP, int(PWM_CHANNEL) if PWM_CHANNEL is not None else None)
    out.apply(PilotSignal.pwm(16))
    out.close()
    time.sleep(0.05)
    assert edges.capture(0.3) == [] and edges.pin.state == 1
    assert out.enabled


async def test_probe_on_this_pi(lock: None):
    from hw.pwm_sysfs import probe

    channel = int(PWM_CHANNEL) if PWM_CHANNEL is not None else None
    results = await probe(PWM_CHIP, channel)
    assert all(r.ok for r in results), results


@pytest.mark.skipif(
    RELAY_PIN is None or FEEDBACK_PIN is None,
    reason="set CHARGECTL_HIL_RELAY_PIN and CHARGECTL_HIL_FEEDBACK_PIN (jumpered together)",
)
def test_contactor_reads_its_own_command_back(lock: None):
    from hw.gpio import GpioContactor

    assert RELAY_PIN is not None and FEEDBACK_PIN is not None
    c = GpioContactor(int(RELAY_PIN), feedback_pin=int(FEEDBACK_PIN))
    try:
        assert c.feedback() is False
        c.set_closed(True)
        time.sleep(0.01)
        assert c.feedback() is True
        c.set_closed(False)
        time.sleep(0.01)
        assert c.feedback() is False
    finally:
        c.close()
