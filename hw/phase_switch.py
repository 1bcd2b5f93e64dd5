"""Switching a connector between one and three phases, without ever switching under load.

The sequence: pause (X1) -> the car stops drawing -> the contactor opens -> the phase relay
switches -> wait `wait_s` (the relay settles and the car sees a long pause, as some cars need to
notice the new supply) -> the pause is released and the pilot resumes at the new duty through
its own rules (minimum pause, wake-up). The relay is only ever written while the pilot state
machine reports the contactor open, the driver has written it open, and its feedback (if wired)
does not say closed.

At most one switch per `min_interval_s` per connector. A car that does not charge within
`confirm_s` after a switch is switched back once to the setting it charged on, and switching is
then disabled for the rest of the session (until unplug), and reported.

Runs on the injected clock and is stepped by the driver's poll; no I/O of its own apart from the
`hw.base.PhaseSwitch` output it is given.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields
from enum import StrEnum

from hw.base import CpState, PhaseSwitch
from hw.clock import Clock
from hw.pilot import PilotPhase, PilotStatus

_log = logging.getLogger(__name__)

_NOT_OFFERING = frozenset(
    {PilotPhase.STARTUP, PilotPhase.IDLE, PilotPhase.PAUSED, PilotPhase.STOPPING, PilotPhase.FAULT}
)


@dataclass(frozen=True, slots=True)
class PhaseSwitchConfig:
    wait_s: float = 10.0
    """Between the relay switching and the offer coming back; the relay's time and the car's."""
    min_interval_s: float = 300.0
    """At most one switch per this long (the switch back after a failure excepted)."""
    confirm_s: float = 60.0
    """After a switch the car must charge within this long, else it is switched back."""
    feedback_timeout_s: float = 1.0
    """The relay's feedback must agree within this long, else the switch failed."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"phase_switch.{f.name} must be >= 0, got {value!r}")


class SwitchStep(StrEnum):
    IDLE = "idle"
    PAUSING = "pausing"  # X1 sent, waiting for the contactor to open
    WAITING = "waiting"  # relay switched, contactor open, waiting wait_s
    CONFIRMING = "confirming"  # offer back, waiting for the car to charge


@dataclass(frozen=True, slots=True)
class SwitchReport:
    """For status and logs: where the sequence is and what happened last."""

    phases: int
    step: SwitchStep
    target: int | None
    disabled: bool
    last_result: str | None
    switches: int


class PhaseSwitchSequencer:
    def __init__(
        self,
        output: PhaseSwitch,
        clock: Clock,
        config: PhaseSwitchConfig | None = None,
        *,
        phases: int = 3,
    ) -> None:
        self._output = output
        self._clock = clock
        self.config = config or PhaseSwitchConfig()
        self.phases = phases
        self._wanted = phases
        self._step = SwitchStep.IDLE
        self._target: int | None = None
        self._previous: int | None = None
        self._since = clock.monotonic()
        self._last_switch_s: float | None = None
        self._retrying = False
        self._disabled = False
        self._last_result: str | None = None
        self.switches = 0

    @property
    def holding_pause(self) -> bool:
        """True while the pilot must stay paused for the switch."""
        return self._step in (SwitchStep.PAUSING, SwitchStep.WAITING)

    @property
    def step_name(self) -> SwitchStep:
        return self._step

    def report(self) -> SwitchReport:
        return SwitchReport(
            self.phases,
            self._step,
            self._target,
            self._disabled,
            self._last_result,
            self.switches,
        )

    def apply_initial(self) -> None:
        """Put the relay where `phases` says; only call while the contactor is open."""
        self._output.set_phases(self.phases)

    def request(self, phases: int) -> None:
        if phases not in (1, 3):
            raise ValueError(f"phases must be 1 or 3, got {phases!r}")
        self._wanted = phases

    def abort(self) -> None:
        """The driver went to the safe state: the relay stays as it is, the sequence ends."""
        if self._step is SwitchStep.WAITING and self._target is not None:
            self.phases = self._target  # the relay has switched already
        self._step = SwitchStep.IDLE
        self._target = None

    def step(self, pilot: PilotStatus, contactor_open: bool) -> None:
        """Advance with the pilot's last status; `contactor_open` is what the driver wrote and
        the feedback says, both of which must agree before the relay may move."""
        now = self._clock.monotonic()
        if pilot.vehicle_state is CpState.A and self._step is not SwitchStep.WAITING:
            # A new car is a new session: it may be switched again.
            self._disabled = False
            self._retrying = False
            if self._step is SwitchStep.CONFIRMING:
                self._step = SwitchStep.IDLE
        if self._step is SwitchStep.IDLE:
            self._start_if_wanted(now)
        if self._step is SwitchStep.PAUSING:
            if contactor_open and not pilot.contactor_closed:
                assert self._target is not None
                _log.info("phase switch: contactor open, relay to %d phase(s)", self._target)
                self._output.set_phases(self._target)
                self._enter(SwitchStep.WAITING, now)
            return
        if self._step is SwitchStep.WAITING:
            self._step_waiting(now)
            return
        if self._step is SwitchStep.CONFIRMING:
            if pilot.phase is PilotPhase.CHARGING:
                if self._retrying:
                    self._last_result = (
                        f"charging on {self.phases} phase(s) again after the car did not charge "
                        f"on {self._previous}: switching disabled for this session"
                    )
                else:
                    self._last_result = f"charging on {self.phases} phase(s)"
                self._retrying = False
                self._enter(SwitchStep.IDLE, now)
            elif pilot.phase in _NOT_OFFERING:
                self._since = now  # nothing offered (a profile, a pause): the car is not failing
            elif now - self._since >= self.config.confirm_s:
                self._car_failed(now)

    # -------------------------------------------------------------- internals

    def _enter(self, step: SwitchStep, now: float) -> None:
        self._step = step
        self._since = now

    def _start_if_wanted(self, now: float) -> None:
        if self._wanted == self.phases or self._disabled:
            return
        last = self._last_switch_s
        if last is not None and now - last < self.config.min_interval_s:
            return
        self._begin(self._wanted, now)

    def _begin(self, target: int, now: float) -> None:
        _log.info("phase switch %d -> %d: pausing", self.phases, target)
        self._previous = self.phases
        self._target = target
        self._enter(SwitchStep.PAUSING, now)

    def _step_waiting(self, now: float) -> None:
        assert self._target is not None
        feedback = self._output.feedback() if self._output.has_feedback else None
        if feedback is not None and feedback != self._target:
            if now - self._since >= self.config.feedback_timeout_s:
                # The relay did not move: the phases are what they were; stop trying.
                self._last_result = (
                    f"relay feedback says {feedback} phase(s), not {self._target}: "
                    "switching disabled for this session"
                )
                _log.error("phase switch: %s", self._last_result)
                self._output.set_phases(feedback)
                self.phases = feedback
                self._disabled = True
                self._target = None
                self._enter(SwitchStep.IDLE, now)
            return
        if now - self._since < self.config.wait_s:
            return
        self.phases = self._target
        self._target = None
        self._last_switch_s = now
        self.switches += 1
        _log.info("phase switch: %d phase(s), offer released", self.phases)
        self._enter(SwitchStep.CONFIRMING, now)

    def _car_failed(self, now: float) -> None:
        previous = self._previous
        if self._retrying or previous is None or previous == self.phases:
            self._last_result = (
                f"the car does not charge on {self.phases} phase(s) either: "
                "switching disabled for this session"
            )
            _log.warning("phase switch: %s", self._last_result)
            self._disabled = True
            self._retrying = False
            self._enter(SwitchStep.IDLE, now)
            return
        self._last_result = (
            f"the car did not charge within {self.config.confirm_s:g} s on {self.phases} "
            f"phase(s): back to {previous}, switching disabled for this session"
        )
        _log.warning("phase switch: %s", self._last_result)
        self._retrying = True
        self._disabled = True
        self._begin(previous, now)
