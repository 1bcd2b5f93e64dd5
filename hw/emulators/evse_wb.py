"""An EVSE-WB / EVSE-DIN board with a car behind it, on a pymodbus server.

Register 1000 sets the current (1 A or 0.01 A steps by bit 7 of 2005); the car charges (1002 =
3) when at least 6 A are offered and draws min(offer, its maximum); 0 pauses it (1002 = 2).
Every write seen on the wire is recorded with its time, so tests assert the exact frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Write:
    address: int
    values: list[int]
    at: float


@dataclass
class EvseWbEmulator:
    device_id: int = 1
    firmware: int = 17
    centiamps: bool = True
    car_max_a: float = 32.0
    plugged_in: bool = True
    failure: bool = False
    current_reg: int = 0
    writes: list[Write] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)  # when each request arrived

    @property
    def offered_a(self) -> float:
        return self.current_reg / (100.0 if self.centiamps else 1.0)

    @property
    def vehicle_state(self) -> int:
        if self.failure:
            return 5
        if not self.plugged_in:
            return 1
        return 3 if self.offered_a >= 6 else 2

    @property
    def drawn_a(self) -> float:
        return min(self.offered_a, self.car_max_a) if self.vehicle_state == 3 else 0.0

    def sim_device(self) -> Any:
        from pymodbus.simulator import DataType, SimData, SimDevice

        return SimDevice(
            self.device_id,
            [
                SimData(1000, count=10, values=0, datatype=DataType.REGISTERS),
                SimData(2000, count=18, values=0, datatype=DataType.REGISTERS),
            ],
            action=self._action,
        )

    def _refresh(self, start: int, regs: list[int]) -> None:
        def put(addr: int, value: int) -> None:
            i = addr - start
            if 0 <= i < len(regs):
                regs[i] = value

        put(1000, self.current_reg)
        put(1001, round(self.offered_a * (100 if self.centiamps else 1)))
        put(1002, self.vehicle_state)
        put(1003, 32)
        put(1005, self.firmware)
        put(1006, 2 if self.offered_a >= 6 else 1)
        put(1007, 1 if self.vehicle_state == 3 else 0)
        put(2005, 0x80 if self.centiamps else 0)

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

        self.requests.append(time.monotonic())
        if values is not None:
            ints = [int(v) for v in values]
            self.writes.append(Write(address, ints, time.monotonic()))
            for i, v in enumerate(ints):
                a = address + i
                if a == 1000:
                    self.current_reg = v
                elif a == 2005:
                    self.centiamps = bool(v & 0x80)
                elif a not in range(2000, 2018):
                    return ExcCodes.ILLEGAL_ADDRESS
        self._refresh(start_address, registers)
        return None
