"""The event loop's longest stall while the charger charges with 1 s MeterValues, then takes
one SetChargingProfile; run under LD_PRELOAD=slow_fsync.so to see what a slow SD card does.
The control loop runs on this event loop, so its worst tick is late by at least as much.

    python -m bench.tick_probe SECONDS   (prints: <stall while charging s> <stall on profile s>)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from ocpp.v16 import call

from controller.app import Charger
from controller.config import make_settings
from controller.demo.csms import DemoCsms

CP = "TICK01"


class StallProbe:
    """Wakes every 10 ms and keeps the largest lateness seen since the last `reset`."""

    def __init__(self) -> None:
        self.worst_s = 0.0

    def reset(self) -> None:
        self.worst_s = 0.0

    async def run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst_s = max(self.worst_s, time.perf_counter() - t0 - 0.01)


async def measure(seconds: float) -> tuple[float, float]:
    csms = DemoCsms()
    url = await csms.start()
    probe = StallProbe()
    with tempfile.TemporaryDirectory() as tmp:
        charger = Charger(
            make_settings(
                ocpp={"url": url, "charge_point_id": CP, "free_vend_id_tag": "FREE"},
                state={"dir": Path(tmp)},
                connector=[{"id": 1, "driver": "sim"}],
                simulator={"ev_response_s": 0.2},
                web={"enabled": False},
                log_level="warning",
            )
        )
        task = asyncio.create_task(charger.run())
        probe_task = asyncio.create_task(probe.run())
        await csms.wait_for("StatusNotification", lambda r: r.payload["status"] == "Charging", 60)
        await csms.call(CP, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1"))
        await asyncio.sleep(2)
        probe.reset()
        before = sum(1 for r in csms.received if r.action == "MeterValues")
        await asyncio.sleep(seconds)
        charging_s = probe.worst_s
        sent = sum(1 for r in csms.received if r.action == "MeterValues") - before
        assert sent >= seconds * 0.5, f"only {sent} MeterValues in {seconds} s"
        probe.reset()
        await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1,
                cs_charging_profiles={
                    "chargingProfileId": 7,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}],
                    },
                },
            ),
        )
        await asyncio.sleep(0.5)
        profile_s = probe.worst_s
        probe_task.cancel()
        charger.stop()
        await asyncio.wait_for(task, 30)
    await csms.close()
    return charging_s, profile_s


if __name__ == "__main__":
    charging, profile = asyncio.run(measure(float(sys.argv[1])))
    print(f"{charging:.4f} {profile:.4f}")
