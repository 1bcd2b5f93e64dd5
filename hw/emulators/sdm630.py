"""An Eastron SDM630 energy meter: float32 input registers, high word first."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any


def float_regs(value: float) -> list[int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


@dataclass
class Sdm630Emulator:
    device_id: int = 2
    voltage_v: tuple[float, float, float] = (230.0, 231.0, 229.0)
    current_a: tuple[float, float, float] = (0.0, 0.0, 0.0)
    import_kwh: float = 1234.5

    def sim_device(self) -> Any:
        from pymodbus.simulator import DataType, SimData, SimDevice

        # Eastron meters answer function 4 only; the other blocks hold a placeholder each
        # (pymodbus wants every block non-empty): a serial-number holding register.
        coils = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        inputs = [SimData(0, count=0x160, values=0, datatype=DataType.REGISTERS)]
        holding = [SimData(0xFC00, count=2, values=0, datatype=DataType.REGISTERS)]
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
        def put(addr: int, value: float) -> None:
            i = addr - start_address
            regs = float_regs(value)
            if i >= 0 and i + 1 < len(registers):
                registers[i : i + 2] = regs

        for n in range(3):
            put(0x00 + 2 * n, self.voltage_v[n])
            put(0x06 + 2 * n, self.current_a[n])
            put(0x0C + 2 * n, self.voltage_v[n] * self.current_a[n])
        put(0x34, sum(v * i for v, i in zip(self.voltage_v, self.current_a, strict=True)))
        put(0x46, 50.0)
        put(0x48, self.import_kwh)
        return None
