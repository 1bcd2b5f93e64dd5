"""A Modbus EVSE board's own 1p/3p relay, switched through the same sequence as a Pi's relay.

A board preset (or a `generic` board's keys) may declare where its phase relay is: a coil or
a holding register, on the board itself or on a relay unit of its own on the bus, and the
values for one and for three phases (`PhaseRelay`). None of the presets shipped today has one:
the EVSE-WB/DIN and Heidelberg maps have no such register, so `PHASE_CAPABLE_PRESETS` is empty
and a phase switch on them is refused by the configuration check, naming what can.

The switching itself is `hw.phase_switch.PhaseSwitchSequencer`'s, unchanged: it is given a
`hw.base.PhaseSwitch` (`ModbusPhaseRelay`) and the board's state dressed as the pilot status
it reads (`board_pilot_status`). The board runs the pilot and the contactor, so "paused" is
the pause value written, and "contactor open" is the board reporting no car charging (A or B)
with the pause in place. `PhaseSwitch.set_phases` is synchronous while a Modbus write is not:
the relay records what it must show and the driver's poll writes it (`ModbusPhaseRelay.apply`),
holding the pause for as long as the write has not gone through.
"""

from __future__ import annotations

from dataclasses import dataclass

from hw.base import CpState
from hw.modbus_bus import ModbusBus
from hw.pilot import PilotPhase, PilotSignal, PilotStatus


@dataclass(frozen=True, slots=True)
class PhaseRelay:
    """Where a board's phase relay is and what to write for one and for three phases."""

    address: int
    coil: bool = False
    """A coil (written with function 5) rather than a holding register (function 16)."""
    one_phase: int = 0
    three_phases: int = 1
    device_id: int | None = None
    """A relay unit with its own device id on the bus; None: the board itself."""


class ModbusPhaseRelay:
    """`hw.base.PhaseSwitch` over Modbus: `set_phases` records, `apply` writes."""

    def __init__(self, bus: ModbusBus, relay: PhaseRelay, board_device_id: int) -> None:
        self._bus = bus
        self.relay = relay
        self._device_id = relay.device_id if relay.device_id is not None else board_device_id
        self._wanted: int | None = None
        self._written: int | None = None

    @property
    def has_feedback(self) -> bool:
        return False  # the register says what was commanded, not what the contacts did

    def set_phases(self, phases: int) -> None:
        if phases not in (1, 3):
            raise ValueError(f"phases must be 1 or 3, got {phases!r}")
        self._wanted = phases

    def feedback(self) -> int | None:
        return None

    @property
    def pending(self) -> bool:
        """A switch commanded but not yet written: the pause must hold."""
        return self._wanted is not None and self._wanted != self._written

    async def apply(self) -> None:
        """Write what `set_phases` asked for, if it is not on the board yet; raises
        HardwareError (the write is tried again at the next poll, the pause still held)."""
        wanted = self._wanted
        if wanted is None or wanted == self._written:
            return
        r = self.relay
        value = r.one_phase if wanted == 1 else r.three_phases
        if r.coil:
            await self._bus.write_coil(r.address, bool(value), self._device_id)
        else:
            await self._bus.write_registers(r.address, [value], self._device_id)
        self._written = wanted

    def forget(self) -> None:
        """After a failure the board's relay is unknown: the next switch writes again."""
        self._written = None

    def close(self) -> None:
        return None  # the bus is the driver's to release


def board_pilot_status(state: CpState, offered_a: float, paused: bool) -> PilotStatus:
    """The board's state in the terms the switching sequence reads: a car charging (C or D
    with current offered) has the contactor closed; with the pause written the board offers
    nothing, and once the car has left C its contactor is open."""
    charging = state in (CpState.C, CpState.D) and offered_a > 0 and not paused
    if state is CpState.A:
        phase = PilotPhase.IDLE
    elif paused:
        phase = PilotPhase.STOPPING if state in (CpState.C, CpState.D) else PilotPhase.PAUSED
    elif charging:
        phase = PilotPhase.CHARGING
    else:
        phase = PilotPhase.OFFERING
    signal = PilotSignal.pwm(offered_a) if offered_a >= 6 and not paused else PilotSignal.x1()
    # A car in C or D may still have the board's contactor closed: never taken as open.
    closed = state in (CpState.C, CpState.D)
    return PilotStatus(phase, signal, contactor_closed=closed, vehicle_state=state)
