"""A connector whose control pilot the Pi drives itself: PWM output, pilot read-back, contactor.

`DirectPilotDriver` implements `hw.base.EvseDriver` by composing the pilot state machine with
three small devices. The real ones are the kernel PWM (`hw.pwm_sysfs`), the MCP300x read-back
(`hw.cp_adc`) and a gpiozero relay (`hw.gpio`); the simulator (`hw.sim`) plugs in its own,
wired to a simulated car, so the same state machine runs in the demo, the tests and on a Pi.

Failure behaviour: any exception while applying a command sends the outputs to the safe state
(X1, contactor open) before it propagates as a `hw.errors` exception; `safe_state()` and
`close()` never raise.
"""

from __future__ import annotations

import logging
from typing import Protocol

from hw.base import Capabilities, CpState, EvseStatus
from hw.clock import Clock
from hw.errors import DriverIOError, HardwareError
from hw.pilot import X1_DUTY, PilotCommand, PilotConfig, PilotStateMachine

log = logging.getLogger(__name__)


class PilotOutput(Protocol):
    """The pilot generator: duty 100 % = +12 V DC (X1), 0 % = -12 V DC (F)."""

    def set_duty(self, duty_percent: float) -> None: ...

    def close(self) -> None: ...


class PilotSensor(Protocol):
    """Reads the pilot's high level back and classifies it."""

    def read_state(self) -> CpState: ...

    def close(self) -> None: ...


class Contactor(Protocol):
    def set_closed(self, closed: bool) -> None: ...

    def feedback(self) -> bool | None:
        """The auxiliary contact's reading, or None when there is no feedback input."""

    def close(self) -> None: ...


class Heartbeat(Protocol):
    """An optional output that must toggle for an external watchdog to keep the contactor on."""

    def toggle(self) -> None: ...

    def close(self) -> None: ...


class DirectPilotDriver:
    def __init__(
        self,
        output: PilotOutput,
        sensor: PilotSensor,
        contactor: Contactor,
        clock: Clock,
        config: PilotConfig | None = None,
        *,
        phases: int = 3,
        heartbeat: Heartbeat | None = None,
        can_wake_up: bool = True,
    ) -> None:
        self._output = output
        self._sensor = sensor
        self._contactor = contactor
        self._clock = clock
        self._heartbeat = heartbeat
        self.machine = PilotStateMachine(config)
        cfg = self.machine.config
        self._capabilities = Capabilities(
            min_current_a=cfg.min_current_a,
            max_current_a=cfg.max_current_a,
            phases=phases,
            can_wake_up=can_wake_up,
            has_contactor_feedback=contactor.feedback() is not None,
            reads_cable_rating=False,
        )
        self._wanted_a = 0.0
        self._applied: tuple[float, bool] | None = None
        self._last: PilotCommand | None = None
        self._state = CpState.A
        self._closed = False

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    async def start(self) -> None:
        await self.safe_state()

    async def set_limit(self, limit_a: float) -> None:
        self._wanted_a = limit_a
        self._step()  # a pause must not wait for the next poll

    async def poll(self) -> EvseStatus:
        try:
            self._state = self._sensor.read_state()
        except (HardwareError, OSError) as exc:
            # Without a reading nobody supervises the car: safe outputs until one comes back.
            self._safe_outputs()
            self._applied = None
            if isinstance(exc, HardwareError):
                raise
            raise DriverIOError(f"pilot read-back failed: {exc}") from exc
        cmd = self._step()
        if self._heartbeat is not None:
            self._heartbeat.toggle()
        fault = cmd.fault
        fb = self._contactor.feedback()
        if fb is not None and fb != cmd.contactor_closed:
            fault = fault or (
                "contactor welded: feedback says closed while commanded open"
                if fb
                else "contactor does not close: no feedback"
            )
        return EvseStatus(
            cp_state=self._state,
            offered_a=cmd.offered_a,
            contactor_closed=cmd.contactor_closed,
            suspended_by_ev=cmd.suspended_by_ev,
            fault=fault,
        )

    def _step(self) -> PilotCommand:
        cmd = self.machine.step(self._clock.monotonic(), self._wanted_a, self._state)
        want = (round(cmd.duty_percent, 4), cmd.contactor_closed)
        if want != self._applied:
            try:
                # Opening happens before a pilot change, closing after it: never live under X1.
                if not cmd.contactor_closed:
                    self._contactor.set_closed(False)
                self._output.set_duty(cmd.duty_percent)
                if cmd.contactor_closed:
                    self._contactor.set_closed(True)
            except Exception:
                self._safe_outputs()
                self._applied = None
                raise
            self._applied = want
        self._last = cmd
        return cmd

    def _safe_outputs(self) -> None:
        try:
            self._contactor.set_closed(False)
        except Exception:
            log.exception("could not open the contactor")
        try:
            self._output.set_duty(X1_DUTY)
        except Exception:
            log.exception("could not set the pilot to +12 V")

    async def safe_state(self) -> None:
        self._wanted_a = 0.0
        self._safe_outputs()
        self._applied = (X1_DUTY, False)

    async def close(self) -> None:
        if self._closed:
            return
        await self.safe_state()
        self._closed = True
        for dev in (self._output, self._sensor, self._contactor, self._heartbeat):
            if dev is None:
                continue
            try:
                dev.close()
            except Exception:
                log.exception("closing %s failed", type(dev).__name__)
