"""The EV-emulator rig for tests: the circuit twin by default, the real rig on a Pi with --hil.

Both give the same things to a test: a sysfs root for the kernel PWM, a gpiozero pin factory,
the rig's switch pins, the contactor's relay and feedback pins, and a duty meter. On the twin
the "wire" is the twin's model (it reads the PWM files the kernel would turn into a signal); on
a Pi the duty comes from a loopback input's edge timestamps (docs/hil.md, "Pins").

Pins on a Pi (BCM), overridable by environment variables:
  CHARGECTL_HIL_RIG       plug=5,request=6,ventilation=13,short=26
  CHARGECTL_HIL_RELAY_PIN 17      CHARGECTL_HIL_FEEDBACK_PIN 27
  CHARGECTL_HIL_INPUT_PIN 23 (loopback of GPIO18)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory
from sysfs_tree import PI5_PWM, FakeSysfs

from controller.selftest.duty import DutyMeter, EdgeDutyMeter
from controller.selftest.rig import RigCar, parse_gpios, probe_wiring
from hw.emulators.ev_rig import EvRigTwin, RigFaults
from hw.ev_rig_circuit import RigSwitch

# The IEC budget for opening after C -> B is 100 ms. The twin runs on shared CI machines where a
# thread can wait that long for the CPU, so there it is only a safety bound; the number measured
# is printed either way.
PI_OPEN_BUDGET_S = 0.1
TWIN_OPEN_BUDGET_S = 1.0


@dataclass
class TwinDutyMeter:
    """The duty as the twin's wire carries it: the kernel PWM's period and high time."""

    twin: EvRigTwin
    source: str = "circuit twin (kernel PWM files)"

    def measure(self, seconds: float = 1.0) -> tuple[float, float]:
        period_ns = int((self.twin.pwm_dir / "period").read_text())
        return 1e9 / period_ns, self.twin.duty_percent()

    def close(self) -> None:
        return None


@dataclass
class RigBench:
    sys_root: Path
    pins: Any
    gpios: dict[RigSwitch, int]
    relay_gpio: int
    feedback_gpio: int
    duty: DutyMeter
    open_budget_s: float
    model: str
    twin: EvRigTwin | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def car(self) -> RigCar:
        return RigCar(self.gpios, pin_factory=self.pins)


@contextmanager
def twin_bench(tmp_path: Path, faults: RigFaults | None = None) -> Iterator[RigBench]:
    sysfs = FakeSysfs(tmp_path / "sys")
    factory = MockFactory()  # SPI mock pins must not be PWM pins
    saved = Device.pin_factory
    Device.pin_factory = factory  # gpiozero's software SPI bus uses the default factory
    twin = EvRigTwin(factory, sysfs.channel(2, PI5_PWM), faults=faults)
    try:
        yield RigBench(
            sysfs.root,
            factory,
            dict(parse_gpios("default")),
            17,
            27,
            TwinDutyMeter(twin),
            TWIN_OPEN_BUDGET_S,
            "circuit twin",
            twin,
        )
    finally:
        twin.close()
        factory.reset()
        Device.pin_factory = saved
        sysfs.close()


def _pi_model() -> str:
    try:
        return Path("/proc/device-tree/model").read_text().rstrip("\0").strip()
    except OSError:
        return "unknown"


@contextmanager
def _hil_lock() -> Iterator[None]:
    """The same lock as test_hil_pi.py: two runs must not drive the same pins."""
    path = Path(os.environ.get("CHARGECTL_HIL_LOCK", "/tmp/chargectl-hil.lock"))
    with path.open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pytest.fail(f"{path} is held by another HIL run", pytrace=False)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def pi_bench() -> Iterator[RigBench]:
    Device.ensure_pin_factory()
    with _hil_lock():
        duty = EdgeDutyMeter(int(os.environ.get("CHARGECTL_HIL_INPUT_PIN", "23")))
        try:
            yield _pi_rig(duty)
        finally:
            duty.close()


def _pi_rig(duty: DutyMeter) -> RigBench:
    return RigBench(
        Path("/sys"),
        Device.pin_factory,
        parse_gpios(os.environ.get("CHARGECTL_HIL_RIG", "default")),
        int(os.environ.get("CHARGECTL_HIL_RELAY_PIN", "17")),
        int(os.environ.get("CHARGECTL_HIL_FEEDBACK_PIN", "27")),
        duty,
        PI_OPEN_BUDGET_S,
        _pi_model(),
    )


def require_wiring(car: RigCar, output: Any, sensor: Any) -> None:
    """The probe before any HIL story: refuse, naming the pins, when the rig is wired otherwise."""
    problems = probe_wiring(car, output, sensor)
    if problems:
        pytest.fail(
            "the EV-emulator rig is not wired as expected; not running:\n  - "
            + "\n  - ".join(problems),
            pytrace=False,
        )
