"""Energy meters over Modbus, for OCPP MeterValues: Eastron SDM630 / SDM72 / SDM120, ABB B23.

Eastron: input registers (function 4), IEEE-754 float32, high word first; import energy at
0x48 in kWh. ABB B23: holding registers (function 3), scaled big-endian integers; import energy
at 0x5000 (uint64, 0.01 kWh). Wiring and serial settings: docs/modbus.md.
"""

from __future__ import annotations

import math
import struct

from hw.base import MeterSample
from hw.errors import DriverFault
from hw.modbus_bus import ModbusBus

MODELS = ("sdm630", "sdm72", "sdm120", "abb_b23")
# Registers of each request of one `read()`, in order: the bus budget counts on it.
READ_PLAN: dict[str, tuple[int, ...]] = {
    "sdm630": (18, 2),
    "sdm72": (18, 2),
    "sdm120": (14, 2),
    "abb_b23": (22, 4),
}

# No meter on a charge point counts a terawatt-hour: a larger register is a garbled answer.
MAX_REGISTER_WH = 1e12


def _floats(regs: list[int]) -> list[float]:
    out = []
    for i in range(0, len(regs) - 1, 2):
        out.append(struct.unpack(">f", struct.pack(">HH", regs[i], regs[i + 1]))[0])
    return out


def _uints(regs: list[int], words: int) -> list[int]:
    out = []
    for i in range(0, len(regs) - words + 1, words):
        v = 0
        for w in regs[i : i + words]:
            v = (v << 16) | w
        out.append(v)
    return out


def _int32(regs: list[int]) -> int:
    v = (regs[0] << 16) | regs[1]
    return v - (1 << 32) if v & 0x80000000 else v


class ModbusMeter:
    def __init__(self, bus: ModbusBus, model: str = "sdm630", *, device_id: int = 1) -> None:
        if model not in MODELS:
            raise ValueError(f"meter model {model!r}: one of {', '.join(MODELS)}")
        self.bus = bus
        self.model = model
        self.device_id = device_id
        bus.acquire()

    async def start(self) -> None:
        pass

    async def read(self) -> MeterSample:
        d = self.device_id
        if self.model == "abb_b23":
            # Voltages, currents and total power in one request: 0x5B00..0x5B15.
            block = await self.bus.read_holding(0x5B00, 22, d)
            volts = [v * 0.1 for v in _uints(block[0:6], 2)]
            amps = [a * 0.01 for a in _uints(block[12:18], 2)]
            power_w = _int32(block[20:22]) * 0.01
            energy_wh = _uints(await self.bus.read_holding(0x5000, 4, d), 4)[0] * 10.0
        elif self.model == "sdm120":
            v, i, p = _floats(await self.bus.read_input(0x00, 14, d))[0:7:3]
            volts, amps, power_w = [v, 0.0, 0.0], [i, 0.0, 0.0], p
            energy_wh = _floats(await self.bus.read_input(0x48, 2, d))[0] * 1000.0
        else:
            vals = _floats(await self.bus.read_input(0x00, 18, d))
            volts, amps = vals[0:3], vals[3:6]
            power_w = sum(vals[6:9])
            energy_wh = _floats(await self.bus.read_input(0x48, 2, d))[0] * 1000.0
        sample = MeterSample(
            energy_wh=energy_wh,
            power_w=power_w,
            current_a=(amps[0], amps[1], amps[2]),
            voltage_v=(volts[0], volts[1], volts[2]),
        )
        _check(sample)
        return sample

    async def close(self) -> None:
        self.bus.release()


def _check(sample: MeterSample) -> None:
    """A NaN, an infinity or an impossible register is a meter fault, never a reading."""
    values = (sample.energy_wh, sample.power_w, *sample.current_a, *sample.voltage_v)
    if not all(math.isfinite(v) for v in values):
        raise DriverFault(f"meter answered a non-finite value: {sample}")
    if not 0 <= sample.energy_wh <= MAX_REGISTER_WH:
        raise DriverFault(f"meter answered an impossible energy register: {sample.energy_wh} Wh")
