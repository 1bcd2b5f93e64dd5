"""`chargectl check-hw`'s row for the grid meter of the main-fuse guard.

The guard is only as good as its meter: a meter that answers with the wrong address, or with
currents that do not look like a house connection, is said here rather than found out at the
first cooker.
"""

from __future__ import annotations

import asyncio

from controller.config import Settings
from hw.errors import HardwareError
from hw.probe import ProbeResult

PROBE_TIMEOUT_S = 10.0


async def probe_grid_meter(settings: Settings) -> list[ProbeResult]:
    g = settings.station.grid_meter
    if g.type == "none":
        return []
    if g.type == "sim":
        fuse = settings.station.main_fuse_a
        return [ProbeResult("grid meter", True, f"simulated house, main fuse {fuse:g} A")]
    from controller.grid import modbus_grid_meter
    from hw.modbus_probe import Link, classify, port_problem

    link = Link(g.port, g.host, g.tcp_port, g.device_id)
    name = f"grid meter {g.type} ({link.where})"
    problem = port_problem(link)
    if problem is not None:
        return [ProbeResult(name, False, *problem)]
    meter = modbus_grid_meter(g, {})
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            sample = await meter.read_grid()
    except (HardwareError, TimeoutError, OSError) as exc:
        row = classify(exc, link)
        return [ProbeResult(name, False, row.detail, row.fix)]
    finally:
        await meter.close()
    amps = ", ".join(f"L{i + 1} {a:.1f} A" for i, a in enumerate(sample.current_a))
    return [
        ProbeResult(
            name,
            True,
            f"{amps} (import +, export -), main fuse {settings.station.main_fuse_a:g} A",
        )
    ]
