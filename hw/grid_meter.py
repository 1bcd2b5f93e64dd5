"""The meter at the house connection, over Modbus, for the main-fuse guard.

Eastron SDM630 / SDM72 (the three-phase meters we already read for MeterValues): voltages,
currents and per-phase power in one request of 18 input registers from 0x00. The meters report
current magnitudes; the sign (import or export) is taken from the phase's active power, because
a guard that reads export as import never lets a car charge on a sunny day.
"""

from __future__ import annotations

import math

from hw.base import GridSample
from hw.errors import DriverFault
from hw.meter_modbus import _floats
from hw.modbus_bus import ModbusBus

GRID_MODELS = ("sdm630", "sdm72")


class ModbusGridMeter:
    def __init__(self, bus: ModbusBus, model: str = "sdm630", *, device_id: int = 1) -> None:
        if model not in GRID_MODELS:
            raise ValueError(f"grid meter model {model!r}: one of {', '.join(GRID_MODELS)}")
        self.bus = bus
        self.model = model
        self.device_id = device_id
        bus.acquire()

    async def start(self) -> None:
        pass

    async def read_grid(self) -> GridSample:
        vals = _floats(await self.bus.read_input(0x00, 18, self.device_id))
        amps, powers = vals[3:6], vals[6:9]
        if not all(math.isfinite(v) for v in (*amps, *powers)):
            raise DriverFault(f"grid meter answered a non-finite value: {vals}")
        signed = [
            math.copysign(abs(a), p) if p != 0 else abs(a)
            for a, p in zip(amps, powers, strict=True)
        ]
        return GridSample(current_a=(signed[0], signed[1], signed[2]), power_w=sum(powers))

    async def close(self) -> None:
        self.bus.release()
