"""The floor: the least a charge point on the same libraries (ocpp + websockets) can do.

Boot, heartbeat at the interval the CSMS asks for, and while "charging" a StartTransaction and
then MeterValues every second; nothing else. `make bench` runs it beside `chargectl run`, so
the project's CPU, memory and start-up are read against what the libraries alone cost.

    python -m bench.floor_cp URL CHARGE_POINT_ID [--charging]
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import websockets
from ocpp.v16 import ChargePoint, call


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _heartbeats(cp: ChargePoint, interval_s: int) -> None:
    while True:
        await asyncio.sleep(interval_s)
        await cp.call(call.Heartbeat())


async def _meter_values(cp: ChargePoint) -> None:
    start = await cp.call(
        call.StartTransaction(connector_id=1, id_tag="FLOOR", meter_start=0, timestamp=_now())
    )
    energy_wh = 0.0
    while True:
        await asyncio.sleep(1.0)
        energy_wh += 11000 / 3600
        await cp.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=start.transaction_id,
                meter_value=[
                    {
                        "timestamp": _now(),
                        "sampledValue": [
                            {"value": f"{energy_wh:.1f}", "unit": "Wh"},
                            {"value": "16.0", "measurand": "Current.Import", "unit": "A"},
                        ],
                    }
                ],
            )
        )


async def main(url: str, cp_id: str, charging: bool) -> None:
    async with websockets.connect(f"{url}/{cp_id}", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = ChargePoint(cp_id, ws)
        reader = asyncio.create_task(cp.start())
        boot = await cp.call(
            call.BootNotification(charge_point_model="floor", charge_point_vendor="bench")
        )
        tasks = [reader, asyncio.create_task(_heartbeats(cp, int(boot.interval)))]
        if charging:
            tasks.append(asyncio.create_task(_meter_values(cp)))
        await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], "--charging" in sys.argv[3:]))
