"""The pilot output and the contactor of a directly driven connector, written in a safe order.

Separate from the driver (`hw.direct_pilot`) because this ordering is the one rule the car's
safety rests on, whatever the state machine says: the contactor opens before the pilot changes
and closes only after the PWM is on; on a failed write both outputs are sent to the safe state
(contactor open, X1) before the error goes up; `force_safe()` tries both outputs and never
raises. It remembers what was last written so a poll that changes nothing writes nothing.
"""

from __future__ import annotations

import logging

from hw.base import Contactor, PilotOutput, PilotSignal
from hw.pilot import X1, PilotStatus

# The driver's logger: these lines are about the same connector and read with its others.
_log = logging.getLogger("hw.direct_pilot")


class OutputStage:
    """Writes a `PilotStatus` to the pilot output and the contactor."""

    def __init__(self, output: PilotOutput, contactor: Contactor) -> None:
        self._output = output
        self._contactor = contactor
        self.applied_signal: PilotSignal | None = None
        """What the pilot output was last set to; None: unknown (a write failed)."""
        self.applied_contactor: bool | None = None
        """What the contactor was last commanded; None: unknown (a write failed)."""

    def write_safe(self) -> None:
        """Contactor open, then X1, written even if already so; raises if a write fails."""
        self._contactor.set_closed(False)
        self.applied_contactor = False
        self._output.apply(X1)
        self.applied_signal = X1

    def apply(self, status: PilotStatus) -> None:
        """Write what changed, in the safe order; on a failure force the safe state and
        re-raise the device's error."""
        try:
            if not status.contactor_closed and self.applied_contactor is not False:
                self._contactor.set_closed(False)
                self.applied_contactor = False
            if status.signal != self.applied_signal:
                self._output.apply(status.signal)
                self.applied_signal = status.signal
            if status.contactor_closed and self.applied_contactor is not True:
                self._contactor.set_closed(True)
                self.applied_contactor = True
        except Exception:
            self.force_safe()
            raise

    def force_safe(self) -> None:
        """Contactor open, then X1; each attempted even if the other fails. Never raises."""
        try:
            self._contactor.set_closed(False)
            self.applied_contactor = False
        except Exception as exc:  # noqa: BLE001 - the safe state must try every output
            self.applied_contactor = None
            _log.critical("could not open the contactor: %s", exc)
        try:
            self._output.apply(X1)
            self.applied_signal = X1
        except Exception as exc:  # noqa: BLE001
            self.applied_signal = None
            _log.critical("could not set the pilot to X1: %s", exc)
