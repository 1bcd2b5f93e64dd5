"""DirectPilotDriver's safety duties: ordering of the outputs, and the safe state on every exit
path, including devices that fail. The devices here record calls and fail on demand; the car
behind them is the simulator's."""

from __future__ import annotations

import pytest

from hw.base import CpState, EvseDriver, FaultKind
from hw.clock import FakeClock
from hw.direct_pilot import Contactor, CpSensor, DirectPilotDriver, Heartbeat, PilotOutput
from hw.errors import DriverIOError, DriverUnavailable, HardwareError
from hw.iec61851 import CpReading
from hw.pilot import PilotConfig, PilotMode, PilotSignal
from hw.sim import SimContactor, SimCpSensor, SimPilotOutput, SimulatedEv, SimulatorSettings

POLL_S = 0.05


class Log(list[tuple[str, object]]):
    pass


class FlakyOutput(SimPilotOutput):
    def __init__(self, ev, clock, log: Log):
        super().__init__(ev, clock)
        self.log = log
        self.fail_on: PilotMode | None = None
        self.error: Exception = OSError(5, "Input/output error")
        self.closed = False

    def apply(self, signal: PilotSignal) -> None:
        self.log.append(("pilot", signal.mode))
        if signal.mode is self.fail_on:
            raise self.error
        super().apply(signal)

    def close(self) -> None:
        self.closed = True
        super().close()


class FlakyContactor(SimContactor):
    def __init__(self, ev, clock, log: Log):
        super().__init__(ev, clock)
        self.log = log
        self.fail = False
        self.closed_device = False

    def set_closed(self, closed: bool) -> None:
        self.log.append(("contactor", closed))
        if self.fail:
            raise DriverIOError("relay driver gone")
        super().set_closed(closed)

    def close(self) -> None:
        self.closed_device = True
        self.set_closed(False)


class FlakySensor(SimCpSensor):
    def __init__(self, ev):
        super().__init__(ev)
        self.fail = False

    def read(self) -> CpReading:
        if self.fail:
            raise DriverIOError("SPI transfer failed")
        return super().read()


class Beat:
    def __init__(self):
        self.toggles = 0
        self.closed = False

    def toggle(self) -> None:
        self.toggles += 1

    def close(self) -> None:
        self.closed = True


class Rig:
    def __init__(self, **config):
        self.clock = FakeClock()
        self.ev = SimulatedEv(SimulatorSettings(), self.clock)
        self.log = Log()
        self.output = FlakyOutput(self.ev, self.clock, self.log)
        self.sensor = FlakySensor(self.ev)
        self.contactor = FlakyContactor(self.ev, self.clock, self.log)
        self.beat = Beat()
        self.driver = DirectPilotDriver(
            self.output,
            self.sensor,
            self.contactor,
            self.clock,
            PilotConfig(**config),
            heartbeat=self.beat,
        )

    async def run(self, seconds: float):
        status = None
        for _ in range(round(seconds / POLL_S)):
            self.clock.advance(POLL_S)
            status = await self.driver.poll()
        return status

    def safe(self) -> bool:
        return self.ev.pilot_mode is PilotMode.X1 and not self.ev.contactor_closed


async def charging() -> Rig:
    rig = Rig()
    await rig.driver.start()
    await rig.driver.set_limit(16)
    await rig.run(5)
    assert rig.ev.drawn_current_a == 16
    rig.log.clear()
    return rig


def test_devices_satisfy_the_protocols():
    rig = Rig()
    assert isinstance(rig.driver, EvseDriver)
    assert isinstance(rig.output, PilotOutput) and isinstance(rig.sensor, CpSensor)
    assert isinstance(rig.contactor, Contactor) and isinstance(rig.beat, Heartbeat)


async def test_start_puts_both_outputs_safe():
    rig = Rig()
    await rig.driver.start()
    assert rig.log == [("contactor", False), ("pilot", PilotMode.X1)]


async def test_start_that_cannot_reach_the_pilot_is_unavailable():
    rig = Rig()
    rig.output.fail_on = PilotMode.X1
    with pytest.raises(DriverUnavailable, match="safe state"):
        await rig.driver.start()


async def test_pwm_before_closing_and_opening_before_a_fault_level():
    rig = Rig()
    await rig.driver.start()
    await rig.driver.set_limit(16)
    await rig.run(5)
    order = [entry for entry in rig.log if entry != ("contactor", False)]
    assert order.index(("pilot", PilotMode.PWM)) < order.index(("contactor", True))
    rig.log.clear()
    rig.ev.unplug()  # A: open at once
    await rig.driver.poll()
    assert rig.log[0] == ("contactor", False)


async def test_heartbeat_toggles_on_every_poll():
    rig = Rig()
    await rig.driver.start()
    await rig.run(1)
    assert rig.beat.toggles == 20


async def test_failed_pwm_write_goes_safe_and_raises_a_driver_error():
    rig = Rig()
    await rig.driver.start()
    rig.output.fail_on = PilotMode.PWM
    await rig.run(2.9)
    with pytest.raises(DriverIOError) as info:
        await rig.driver.set_limit(16)
        await rig.run(0.2)
    assert isinstance(info.value, HardwareError)
    assert rig.safe()
    assert "output write failed" in (rig.driver.pilot.fault or "")


async def test_failed_pause_write_opens_the_contactor_and_raises():
    rig = await charging()
    rig.output.fail_on = PilotMode.X1
    with pytest.raises(DriverIOError):
        await rig.driver.set_limit(0)
    assert ("contactor", False) in rig.log
    assert not rig.ev.contactor_closed  # X1 could not be written, the contactor is open


async def test_unexpected_exception_still_goes_safe():
    rig = Rig()
    await rig.driver.start()
    await rig.run(3)
    rig.output.fail_on = PilotMode.PWM
    rig.output.error = RuntimeError("bug")
    with pytest.raises(RuntimeError):
        await rig.driver.set_limit(16)
    assert rig.safe()


async def test_failed_read_is_a_fault_with_safe_outputs_not_an_exception():
    rig = await charging()
    rig.sensor.fail = True
    status = await rig.driver.poll()
    assert status.fault is not None and "cannot read the CP line" in status.fault.text
    assert status.fault.kind is FaultKind.IO
    assert rig.safe() and status.offered_a == 0
    rig.sensor.fail = False
    await rig.run(29.9)
    assert rig.driver.pilot.fault is not None
    await rig.run(0.2)
    assert rig.driver.pilot.fault is None  # back after 30 s of good readings


async def test_close_always_ends_safe_even_if_the_contactor_fails():
    rig = await charging()
    rig.contactor.fail = True
    await rig.driver.close()  # must not raise
    assert rig.ev.pilot_mode is PilotMode.X1
    assert rig.output.closed and rig.contactor.closed_device and rig.beat.closed
    await rig.driver.close()
    with pytest.raises(DriverUnavailable):
        await rig.driver.poll()
    with pytest.raises(DriverUnavailable):
        await rig.driver.set_limit(16)


async def test_close_after_an_exception_in_the_middle_of_charging():
    rig = await charging()
    rig.output.fail_on = PilotMode.PWM
    try:
        await rig.driver.set_limit(20)
        await rig.run(6)
    except DriverIOError:
        pass
    finally:
        await rig.driver.close()
    assert rig.safe()


async def test_safe_state_then_poll_starts_over():
    rig = await charging()
    await rig.driver.safe_state()
    assert rig.safe()
    await rig.run(2.9)
    assert rig.ev.pilot_mode is PilotMode.X1  # start-up hold again
    await rig.run(15)
    assert rig.ev.drawn_current_a == 16  # and back after the hold and the minimum pause


async def test_safe_state_never_raises_when_both_outputs_fail():
    rig = await charging()
    rig.contactor.fail = True
    rig.output.fail_on = PilotMode.X1
    await rig.driver.safe_state()


async def test_status_reports_the_feedback_not_the_command():
    rig = await charging()
    rig.contactor.stuck_closed = True
    await rig.driver.set_limit(0)
    status = await rig.run(3)
    assert status.contactor_closed and status.cp_state is CpState.B
