"""A connector whose control pilot the Pi drives itself: pilot generator, CP read-back and
contactor, steered by the pilot state machine (`hw.pilot`).

The devices are small protocols so the same driver runs on the Pi (`hw.pwm_sysfs`, `hw.cp_adc`,
`hw.gpio`) and in the simulator (`hw.sim`, devices wired to a simulated car). They are
synchronous on purpose: every real one is a sysfs write, an SPI transfer or a GPIO level, each
well under a millisecond.

The driver writes the outputs through `hw.direct_pilot_outputs.OutputStage`, which owns the ordering
that keeps the car safe: the contactor opens before the pilot changes and closes only after the
PWM is on. A failed read latches a fault in the state machine (X1, contactor open) and is
reported in the status; a failed write sends both outputs to the safe state before the error is
raised. `safe_state()` and `close()` never raise and always try both outputs.

Poll often when it matters: the contactor must open within 100 ms after the car leaves C, so
while it is closed, or a timed transition is pending (C being debounced, the contactor being
forced open, a wake-up, F after a fault), `poll_interval_s()` asks for polls every
`PilotConfig.poll_interval_s` (50 ms). Otherwise nothing the standard times is closer than a
second away (plug-in, a resume, the 3 s to close after C), and `idle_poll_interval_s` (500 ms)
keeps an idle Pi from waking 20 times a second. Every poll also toggles the optional watchdog
output, so a hung service stops the toggling and the external watchdog drops the contactor;
the watchdog's timeout must exceed the idle interval.
"""

from __future__ import annotations

import asyncio
import logging

from hw.base import Capabilities, CpState, EvseStatus, Fault, FaultKind, PhaseSwitch
from hw.base import Contactor as Contactor  # the device contracts live in hw.base
from hw.base import CpSensor as CpSensor
from hw.base import Heartbeat as Heartbeat
from hw.base import PilotOutput as PilotOutput
from hw.clock import Clock
from hw.direct_pilot_outputs import OutputStage
from hw.errors import DriverIOError, DriverUnavailable, HardwareError
from hw.phase_switch import PhaseSwitchConfig, PhaseSwitchSequencer, SwitchReport
from hw.pilot import (
    PilotConfig,
    PilotMode,
    PilotPhase,
    PilotStateMachine,
    PilotStatus,
)

_log = logging.getLogger(__name__)

# Phases with a timer or a closed contactor that the 50 ms rule is about.
_BUSY_PHASES = frozenset(
    {PilotPhase.CHARGING, PilotPhase.STOPPING, PilotPhase.WAKE_F, PilotPhase.WAKE_X1}
)


class DirectPilotDriver:
    """`hw.base.EvseDriver` for a pilot generated on this machine."""

    def __init__(
        self,
        output: PilotOutput,
        sensor: CpSensor,
        contactor: Contactor,
        clock: Clock,
        config: PilotConfig | None = None,
        *,
        phases: int = 3,
        heartbeat: Heartbeat | None = None,
        phase_switch: PhaseSwitch | None = None,
        phase_switch_config: PhaseSwitchConfig | None = None,
    ) -> None:
        if phases not in (1, 3):
            raise ValueError(f"phases must be 1 or 3, got {phases!r}")
        self._config = config or PilotConfig()
        self._machine = PilotStateMachine(self._config, clock)
        self._output = output
        self._sensor = sensor
        self._contactor = contactor
        self._heartbeat = heartbeat
        self._capabilities = Capabilities(
            min_current_a=self._config.min_current_a,
            max_current_a=self._config.max_current_a,
            phases=phases,
            can_wake_up=self._config.wake_up_enabled,
            has_contactor_feedback=contactor.has_feedback,
            reads_cable_rating=False,
            can_switch_phases=phase_switch is not None and phases == 3,
        )
        self._phase_switch = phase_switch
        self._sequencer: PhaseSwitchSequencer | None = None
        if phase_switch is not None and phases == 3:
            self._sequencer = PhaseSwitchSequencer(
                phase_switch, clock, phase_switch_config, phases=phases
            )
        self._limit_a = 0.0
        self._lock = asyncio.Lock()
        self._outputs = OutputStage(output, contactor)
        self._feedback: bool | None = None
        self._last: PilotStatus = self._machine.status()
        self._closed = False

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def config(self) -> PilotConfig:
        return self._config

    @property
    def pilot(self) -> PilotStatus:
        """The state machine's view after the last poll: phase, interruptions, why paused."""
        return self._last

    @property
    def output(self) -> PilotOutput:
        return self._output

    @property
    def sensor(self) -> CpSensor:
        return self._sensor

    @property
    def contactor(self) -> Contactor:
        return self._contactor

    @property
    def phase_switch(self) -> PhaseSwitch | None:
        return self._phase_switch

    @property
    def phases_in_use(self) -> int:
        """`hw.base.PhaseSwitching`: the phases the car is connected to now."""
        if self._sequencer is None:
            return self._capabilities.phases
        return self._sequencer.phases

    def request_phases(self, phases: int) -> None:
        """`hw.base.PhaseSwitching`: switch when it is safe and allowed (`hw.phase_switch`)."""
        if self._sequencer is not None:
            self._sequencer.request(phases)

    def phase_switch_report(self) -> SwitchReport | None:
        return None if self._sequencer is None else self._sequencer.report()

    def poll_interval_s(self) -> float:
        """`hw.base.Polled`: fast while the contactor is closed or a transition is pending."""
        s = self._last
        busy = (
            s.contactor_closed
            or self._outputs.applied_contactor is not False
            or self._feedback is True
            or s.phase in _BUSY_PHASES
            or s.signal.mode is PilotMode.F
            or (s.phase is PilotPhase.OFFERING and s.vehicle_state in (CpState.C, CpState.D))
        )
        return self._config.poll_interval_s if busy else self._config.idle_poll_interval_s

    async def start(self) -> None:
        """Safe outputs, then the start-up hold: X1 for `startup_hold_s` before any offer."""
        self._check_open()
        async with self._lock:
            try:
                self._outputs.write_safe()
                if self._sequencer is not None:
                    self._sequencer.apply_initial()  # the contactor is open: safe to switch
            except (HardwareError, OSError) as exc:
                self._outputs.force_safe()
                raise DriverUnavailable(f"cannot put the pilot in the safe state: {exc}") from exc
            self._machine.restart()
            self._last = self._machine.status()

    async def set_limit(self, limit_a: float) -> None:
        """Record the limit and run one cycle at once, so a pause never waits for a poll."""
        self._check_open()
        self._machine.set_limit(limit_a)  # its ValueError for a limit that makes no sense
        self._limit_a = limit_a
        self._machine.set_limit(self._held_limit_a())
        async with self._lock:
            self._cycle()

    async def poll(self) -> EvseStatus:
        self._check_open()
        async with self._lock:
            return self._cycle()

    async def safe_state(self) -> None:
        """X1 and contactor open now; a later poll starts over with the start-up hold."""
        if self._closed:
            return  # close() already left the outputs safe and released them
        async with self._lock:
            self._outputs.force_safe()
            if self._sequencer is not None:
                self._sequencer.abort()
            self._machine.restart()
            self._last = self._machine.status()

    async def close(self) -> None:
        if self._closed:
            return
        async with self._lock:
            self._closed = True
            self._outputs.force_safe()
            devices = (
                self._contactor,
                self._output,
                self._sensor,
                self._heartbeat,
                self._phase_switch,
            )
            for device in devices:
                if device is None:
                    continue
                try:
                    device.close()
                except Exception as exc:  # noqa: BLE001 - the others must still be closed
                    _log.error("closing %s failed: %s", type(device).__name__, exc)

    # -------------------------------------------------------------- internals

    def _check_open(self) -> None:
        if self._closed:
            raise DriverUnavailable("the pilot driver is closed")

    def _held_limit_a(self) -> float:
        """The limit, or 0 while a phase switch needs the car paused."""
        if self._sequencer is not None and self._sequencer.holding_pause:
            return 0.0
        return self._limit_a

    def _step_phase_switch(self) -> None:
        seq = self._sequencer
        if seq is None:
            return
        contactor_open = (
            self._outputs.applied_contactor is False
            and self._feedback is not True
            and not self._last.contactor_closed
        )
        try:
            seq.step(self._last, contactor_open)
        except (HardwareError, OSError) as exc:
            # A relay that cannot be written: the contactor is open; keep it so.
            _log.error("phase switch relay failed: %s", exc)
            seq.abort()
            self._last = self._machine.fail(f"phase switch relay failed: {exc}")
        self._machine.set_limit(self._held_limit_a())

    def _cycle(self) -> EvseStatus:
        self._step_phase_switch()
        try:
            reading = self._sensor.read()
        except (HardwareError, OSError) as exc:
            # Without a reading nobody watches the car: safe outputs until readings come back
            # (the fault clears after `error_retry_s` of good readings).
            _log.warning("CP read failed: %s", exc)
            status = self._machine.fail(f"cannot read the CP line: {exc}")
        else:
            # The feedback read after the previous cycle's writes: the contact needs time.
            status = self._machine.step(reading, self._feedback)
        self._apply(status)
        try:
            self._feedback = self._contactor.feedback()
        except (HardwareError, OSError) as exc:
            _log.warning("contactor feedback read failed: %s", exc)
            self._feedback = None
            status = self._machine.fail(
                f"cannot read the contactor feedback: {exc}", FaultKind.CONTACTOR
            )
            self._apply(status)
        if self._heartbeat is not None:
            try:
                self._heartbeat.toggle()
            except (HardwareError, OSError) as exc:
                _log.warning("watchdog output failed: %s", exc)
        self._last = status
        return self._evse_status(status)

    def _apply(self, status: PilotStatus) -> None:
        try:
            self._outputs.apply(status)  # on a failure it has forced the safe state
        except Exception as exc:
            self._last = self._machine.fail(f"output write failed: {exc}")
            if isinstance(exc, HardwareError):
                raise
            if isinstance(exc, OSError):
                raise DriverIOError(f"pilot output write failed: {exc}") from exc
            raise

    def _evse_status(self, status: PilotStatus) -> EvseStatus:
        closed = self._feedback if self._feedback is not None else status.contactor_closed
        return EvseStatus(
            cp_state=status.vehicle_state,
            offered_a=status.offered_a,
            contactor_closed=closed,
            suspended_by_ev=status.suspended_by_ev,
            fault=None
            if status.fault is None
            else Fault(status.fault_kind or FaultKind.OTHER, status.fault),
        )
