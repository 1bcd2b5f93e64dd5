"""The service under load, measured: SetChargingProfile -> pilot change latency, start-up to
BootNotification, and CPU share and peak RSS of `chargectl run` during a simulated charge with
1 s MeterValues. CHARGECTL_BENCH_CHARGE_S shortens the charge (default 600 s)."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from ocpp.v16 import call

from controller.app import Charger
from controller.config import Settings
from controller.demo.csms import DemoCsms

CP = "BENCH01"


async def _latency(n: int = 200) -> list[float]:
    """Seconds from the CSMS sending SetChargingProfile to the pilot duty changing."""
    csms = DemoCsms()
    url = await csms.start()
    with tempfile.TemporaryDirectory() as tmp:
        charger = Charger(
            Settings(
                ocpp={"url": url, "charge_point_id": CP},
                state={"dir": Path(tmp)},
                connector=[{"id": 1, "driver": "sim"}],
                simulator={"ev_response_s": 0.2},
                pilot={"pwm_min_update_interval_s": 0},
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


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _service(charge_s: float) -> tuple[list[float], float, float]:
    startups = []
    cpu_share = rss = float("nan")
    for run in range(4):
        csms = DemoCsms()
        url = await csms.start()
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "c.toml"
            cfg.write_text(
                textwrap.dedent(f"""
                log_level = "warning"
                [ocpp]
                url = "{url}"
                charge_point_id = "{CP}"
                free_vend_id_tag = "FREE"
                [state]
                dir = "{tmp}/state"
                [[connector]]
                id = 1
                driver = "sim"
                """)
            )
            t0 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "controller",
                "run",
                "--config",
                str(cfg),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await csms.wait_for("BootNotification", timeout_s=30)
            startups.append(time.perf_counter() - t0)
            if run == 0:
                await csms.wait_for(
                    "StatusNotification", lambda r: r.payload["status"] == "Charging", 30
                )
                await csms.call(
                    CP, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")
                )
                cpu0, w0 = _cpu_s(proc.pid), time.monotonic()
                await asyncio.sleep(charge_s)
                cpu_share = (_cpu_s(proc.pid) - cpu0) / (time.monotonic() - w0)
                rss = _peak_rss_mb(proc.pid)
                values = [r for r in csms.received if r.action == "MeterValues"]
                assert len(values) >= charge_s * 0.9, "MeterValues did not flow every second"
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
        await csms.close()
    return startups, cpu_share, rss


def run() -> list[tuple[str, str, str]]:
    lat = sorted(asyncio.run(_latency()))
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    charge_s = float(os.environ.get("CHARGECTL_BENCH_CHARGE_S", "600"))
    startups, cpu, rss = asyncio.run(_service(charge_s))
    return [
        ("SetChargingProfile -> pilot changed, p50 (200)", f"{p50 * 1e3:.1f} ms", "<= 20 ms"),
        ("SetChargingProfile -> pilot changed, p99 (200)", f"{p99 * 1e3:.1f} ms", "<= 100 ms"),
        (
            f"CPU of chargectl run, {charge_s:.0f} s charge, 1 s MeterValues",
            f"{cpu * 100:.2f} % of a core",
            "<= 1 %",
        ),
        ("peak RSS of chargectl run", f"{rss:.1f} MB", "<= 60 MB"),
        (
            "start-up to BootNotification (median of 4)",
            f"{statistics.median(startups):.2f} s",
            "<= 1.5 s",
        ),
    ]
