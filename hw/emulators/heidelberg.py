"""A Heidelberg Energy Control wallbox on Modbus: holding 257 watchdog (ms), 258 standby,
261 current (0.1 A, 0 = pause), 262 failsafe current; input 5 charging state (2/3 A, 4/5 B,
6/7 C). Writes are recorded as seen on the wire."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hw.emulators.evse_wb import Write


@dataclass
class HeidelbergEmulator:
    device_id: int = 1
    plugged_in: bool = True
    holding: dict[int, int] = field(
        default_factory=lambda: {257: 15000, 258: 0, 259: 1, 261: 0, 262: 60}
    )
    writes: list[Write] = field(default_factory=list)

    @property
    def state(self) -> int:
        if not self.plugged_in:
            return 2
        return 7 if self.holding[261] >= 60 else 5 if self.holding[261] else 4

    def sim_device(self) -> Any:
        from pymodbus.simulator import DataType, SimData, SimDevice

        coils = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        holding = [SimData(257, count=6, values=0, datatype=DataType.REGISTERS)]
        inputs = [SimData(4, count=15, values=0, datatype=DataType.REGISTERS)]
        return SimDevice(self.device_id, (coils, coils, holding, inputs), action=self._action)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> Any:
        if values is not None:
            ints = [int(v) for v in values]
            self.writes.append(Write(address, ints, time.monotonic()))
            for i, v in enumerate(ints):
                self.holding[address + i] = v
        for addr in range(start_address, start_address + len(registers)):
            i = addr - start_address
            if function_code in (3, 6, 16) and addr in self.holding:
                registers[i] = self.holding[addr]
            elif function_code == 4 and addr == 5:
                registers[i] = self.state
        return None
