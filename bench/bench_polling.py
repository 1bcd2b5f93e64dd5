"""What polling costs: idle CPU of `chargectl run` (sim, no car) and, on a 9600-baud RTU line
over a socat PTY pair with an EVSE-WB board and an SDM630 emulated, the requests per second on
the wire and SetChargingProfile-store -> register 1000 written.

CHARGECTL_BENCH_IDLE_S sets the idle measurement (default 60 s); CHARGECTL_BENCH_SOURCE runs
the idle measurement on another checkout of the source (to compare with an older version).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from controller.charger.loop import ConnectorUnit, ControlLoop
from controller.demo.csms import DemoCsms
from controller.smart_charging import ProfileStore, SmartChargingConfig
from hw.clock import SystemClock
from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer
from hw.meter_modbus import READ_PLAN, ModbusMeter
from hw.modbus_budget import METER_POLL_INTERVAL_S, Device, Function, Request, line_budget
from hw.modbus_bus import ModbusBus
from hw.modbus_evse import PRESETS, ModbusEvseDriver, poll_requests

CP = "BENCHIDLE"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle_cpu(seconds: float, source: Path | None = None) -> float:
    """Share of a core `chargectl run` uses with the simulator's car unplugged."""
    csms = DemoCsms()
    url = await csms.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "c.toml"
            cfg.write_text(
                textwrap.dedent(f"""
                log_level = "warning"
                [ocpp]
                url = "{url}"
                charge_point_id = "{CP}"
                [state]
                dir = "{tmp}/state"
                [simulator]
                plugged_in = false
                [[connector]]
                id = 1
                driver = "sim"
                """)
            )
            env = dict(os.environ)
            if source is not None:
                env["PYTHONPATH"] = str(source)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "controller",
                "run",
                "--config",
                str(cfg),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                cwd=str(source) if source is not None else None,
                env=env,
            )
            try:
                await csms.wait_for("BootNotification", timeout_s=30)
                await asyncio.sleep(5)  # start-up done, first StatusNotification sent
                cpu0, w0 = _cpu_s(proc.pid), time.monotonic()
                await asyncio.sleep(seconds)
                return (_cpu_s(proc.pid) - cpu0) / (time.monotonic() - w0)
            finally:
                proc.send_signal(signal.SIGTERM)
                await proc.wait()
    finally:
        await csms.close()


def _cap(limit_a: float, profile_id: int) -> dict[str, object]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": "2024-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
        },
    }


async def modbus_line(pty_a: str, pty_b: str, n: int) -> tuple[float, float, list[float]]:
    """(board requests/s, line requests/s) while charging, and n profile -> write latencies."""
    evse, sdm = EvseWbEmulator(device_id=1), Sdm630Emulator(device_id=2)
    server = EmulatorServer([evse, sdm])
    await server.start_serial(pty_a, baudrate=9600)
    bus = ModbusBus(port=pty_b, baudrate=9600, timeout_s=0.5, gap_s=0.1)
    board = ModbusEvseDriver(bus, PRESETS["evse_wb"], device_id=1)
    store = ProfileStore(SmartChargingConfig(number_of_connectors=1))
    store.set_charging_profile(0, _cap(16, 1), datetime.now(UTC))
    loop = ControlLoop(
        [ConnectorUnit(1, board, ModbusMeter(bus, "sdm630", device_id=2), 32.0)],
        store,
        SystemClock(),
        permit=lambda c: True,
        session_start=lambda c: None,
        on_change=lambda c: None,
    )
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(loop.started.wait(), 10)
        await asyncio.sleep(2)
        t0, board0, bus0 = time.monotonic(), len(evse.requests), bus.requests
        await asyncio.sleep(20)
        elapsed = time.monotonic() - t0
        rates = ((len(evse.requests) - board0) / elapsed, (bus.requests - bus0) / elapsed)
        latencies = []
        for i in range(n):
            # Spread over the poll and meter schedule: any phase of the second.
            await asyncio.sleep(0.2 + (i * 0.137) % 0.6)
            writes = len(evse.writes)
            set_at = time.monotonic()
            store.set_charging_profile(0, _cap(10 if i % 2 == 0 else 16, 2 + i), datetime.now(UTC))
            while len(evse.writes) == writes:  # noqa: ASYNC110 - the emulator has no event
                await asyncio.sleep(0.001)
            latencies.append(evse.writes[writes].at - set_at)
        return rates[0], rates[1], latencies
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()


def _modbus(n: int) -> tuple[float, float, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = f"{tmp}/ttyV0", f"{tmp}/ttyV1"
        socat = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while not (Path(a).exists() and Path(b).exists()):
                time.sleep(0.02)
            return asyncio.run(modbus_line(a, b, n))
        finally:
            socat.kill()
            socat.wait()


def run() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    board = Device("board", poll_requests(PRESETS["evse_wb"]), 1.0, 0.1)
    meter_reads = tuple(Request(Function.READ, n) for n in READ_PLAN["sdm630"])
    meter = Device("meter", meter_reads, METER_POLL_INTERVAL_S, 0.05)
    budget = line_budget("9600 8N1", 9600, "N", [board, meter])
    rows.append(
        ("EVSE-WB + SDM630 at 9600 baud: bus time (formula)", f"{budget.bus_time:.1%}", "<= 20 %")
    )
    if shutil.which("socat"):
        n = 200
        board_rate, line_rate, lat = _modbus(n)
        lat.sort()
        rows += [
            ("EVSE-WB requests/s while charging (wire)", f"{board_rate:.2f}", "~1"),
            ("line requests/s, board + SDM630 (wire)", f"{line_rate:.2f}", "<= 3.5"),
            (
                f"profile -> register 1000 written, p50 ({n})",
                f"{statistics.median(lat) * 1e3:.1f} ms",
                "",
            ),
            (
                f"profile -> register 1000 written, p99 ({n})",
                f"{lat[int(n * 0.99) - 1] * 1e3:.1f} ms",
                "<= 100 ms",
            ),
        ]
    idle_s = float(os.environ.get("CHARGECTL_BENCH_IDLE_S", "60"))
    src = os.environ.get("CHARGECTL_BENCH_SOURCE")
    cpu = asyncio.run(idle_cpu(idle_s, Path(src) if src else None))
    rows.append(
        (
            f"CPU of chargectl run, sim, no car, {idle_s:.0f} s",
            f"{cpu * 100:.3f} % of a core",
            "<= 0.1 %",
        )
    )
    return rows
