"""SetChargingProfile -> pilot change latency, in process (CPU, memory and start-up of
`chargectl run` are measured against the floor in bench_idle_charging)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from ocpp.v16 import call

from controller.app import Charger
from controller.config import make_settings
from controller.demo.csms import DemoCsms

CP = "BENCH01"


async def _latency(n: int = 200) -> list[float]:
    """Seconds from the CSMS sending SetChargingProfile to the pilot duty changing."""
    csms = DemoCsms()
    url = await csms.start()
    with tempfile.TemporaryDirectory() as tmp:
        charger = Charger(
            make_settings(
                ocpp={"url": url, "charge_point_id": CP},
                state={"dir": Path(tmp)},
                connector=[{"id": 1, "driver": "sim"}],
                simulator={"ev_response_s": 0.2},
                pilot={"pwm_min_update_interval_s": 0},
                web={"listen": "127.0.0.1:0"},  # every feature on
                log_level="warning",
            )
        )
        # A change between two currents, with the duty-spacing timer off (it is policy, not
        # latency): every profile below changes the duty.
        output = charger.hardware[1].driver.output  # type: ignore[attr-defined]
        changed = asyncio.Event()
        real_apply = output.apply

        def apply(signal: object) -> None:
            real_apply(signal)
            changed.set()

        output.apply = apply
        task = asyncio.create_task(charger.run())
        await csms.wait_for("StatusNotification", timeout_s=30)
        await csms.call(CP, call.RemoteStartTransaction(id_tag="B", connector_id=1))
        await csms.wait_for("StatusNotification", lambda r: r.payload["status"] == "Charging", 30)
        samples = []
        for i in range(n):
            limit = 16 if i % 2 == 0 else 10
            changed.clear()
            t0 = time.perf_counter()
            await csms.call(
                CP,
                call.SetChargingProfile(
                    connector_id=1,
                    cs_charging_profiles={
                        "chargingProfileId": 5000 + i,
                        "stackLevel": 1,
                        "chargingProfilePurpose": "TxProfile",
                        "chargingProfileKind": "Relative",
                        "chargingSchedule": {
                            "chargingRateUnit": "A",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                        },
                    },
                ),
            )
            await asyncio.wait_for(changed.wait(), 5)
            samples.append(time.perf_counter() - t0)
        charger.stop()
        await asyncio.wait_for(task, 20)
    await csms.close()
    return samples


def run() -> list[tuple[str, str, str]]:
    lat = sorted(asyncio.run(_latency()))
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return [
        ("SetChargingProfile -> pilot changed, p50 (200)", f"{p50 * 1e3:.1f} ms", "<= 5 ms"),
        ("SetChargingProfile -> pilot changed, p99 (200)", f"{p99 * 1e3:.1f} ms", "<= 20 ms"),
    ]
