"""A phase-relay unit on the Modbus bus, for a board whose relay is a coil or a register.

It switches the car behind an `EvseWbEmulator` between one and three phases, and records each
write with the board's vehicle state at that instant, so a test can assert the relay never
moved under load (state C).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hw.emulators.evse_wb import EvseWbEmulator


@dataclass
class RelayWrite:
    phases: int
    vehicle_state: int  # the board's 1002 when the relay moved (3 = charging)
    at: float


@dataclass
class PhaseRelayEmulator:
    board: EvseWbEmulator
    device_id: int = 3
    address: int = 1
    coil: bool = False
    one_phase: int = 0
    three_phases: int = 1
    phases: int = 3
    writes: list[RelayWrite] = field(default_factory=list)

    def sim_device(self) -> Any:
        from pymodbus.simulator import DataType, SimData, SimDevice

        coils = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        holding = [SimData(0, count=16, values=0, datatype=DataType.REGISTERS)]
        return SimDevice(self.device_id, (coils, coils, holding, holding), action=self._action)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> Any:
        from pymodbus.constants import ExcCodes

        if values is None:
            return None
        is_coil = function_code in (5, 15)
        if is_coil != self.coil or address != self.address or len(values) != 1:
            return ExcCodes.ILLEGAL_ADDRESS
        value = int(values[0])
        if value not in (self.one_phase, self.three_phases):
            return ExcCodes.ILLEGAL_VALUE
        self.phases = 1 if value == self.one_phase else 3
        self.writes.append(RelayWrite(self.phases, self.board.vehicle_state, time.monotonic()))
        return None
