"""`idle-and-charging`: `chargectl run` (sim driver, dashboard on) side by side with the floor
(bench/floor_cp.py), against one CSMS, in the same window: CPU share idle (no car) and while
charging with 1 s MeterValues, peak RSS, start-up to BootNotification. Median of
CHARGECTL_BENCH_RUNS (3) windows of CHARGECTL_BENCH_PHASE_S (120) seconds each.

No browser is on the dashboard while CPU is measured. After the idle window one browser scrapes
/metrics once and reads the live feed for CLIENT_S: the peak RSS with the dashboard and a
client."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from ocpp.v16 import call

from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port

Row = tuple[str, str, str, str, str]
CLIENT_S = 10.0


@dataclass
class Sample:
    cpu_idle: list[float] = field(default_factory=list)
    cpu_charging: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    rss_client_mb: list[float] = field(default_factory=list)
    boot_s: list[float] = field(default_factory=list)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _config(tmp: Path, url: str, cp: str, charging: bool, port: int | None = None) -> Path:
    cfg = tmp / f"{cp}.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        log_level = "warning"
        [ocpp]
        url = "{url}"
        charge_point_id = "{cp}"
        free_vend_id_tag = "FREE"
        [state]
        dir = "{tmp}/{cp}-state"
        [[connector]]
        id = 1
        driver = "sim"
        [simulator]
        plugged_in = {"true" if charging else "false"}
        [web]
        enabled = true
        listen = "127.0.0.1:{port or free_port()}"
        """)
    )
    return cfg


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _window(charging: bool, phase_s: float, project: Sample, floor: Sample) -> None:
    """Both charge points started together, then measured over the same `phase_s`."""
    csms = DemoCsms()
    url = await csms.start()
    kind = "C" if charging else "I"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        cfg = _config(tmp, url, f"PROJ{kind}", charging, port)
        t0 = time.perf_counter()
        proj = await _spawn("-m", "controller", "run", "--config", str(cfg))
        await csms.wait_for("BootNotification", lambda r: r.charge_point_id == f"PROJ{kind}", 60)
        project.boot_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        args = ["-m", "bench.floor_cp", url, f"FLOOR{kind}"] + (["--charging"] if charging else [])
        flo = await _spawn(*args)
        await csms.wait_for("BootNotification", lambda r: r.charge_point_id == f"FLOOR{kind}", 60)
        floor.boot_s.append(time.perf_counter() - t0)
        try:
            if charging:
                await csms.wait_for(
                    "StatusNotification",
                    lambda r: (
                        r.charge_point_id == f"PROJ{kind}" and r.payload["status"] == "Charging"
                    ),
                    60,
                )
                await csms.call(
                    f"PROJ{kind}",
                    call.ChangeConfiguration(key="MeterValueSampleInterval", value="1"),
                )
            await asyncio.sleep(5)  # past start-up
            c0 = {p.pid: cpu_s(p.pid) for p in (proj, flo)}
            w0 = time.monotonic()
            await asyncio.sleep(phase_s)
            wall = time.monotonic() - w0
            shares = {p.pid: (cpu_s(p.pid) - c0[p.pid]) / wall for p in (proj, flo)}
            if not charging:
                browser = await _browser(port)
                await asyncio.sleep(CLIENT_S)
                events = await browser.close()
                assert events >= CLIENT_S * 0.8, f"the page's feed sent {events} samples"
                project.rss_client_mb.append(peak_rss_mb(proj.pid))
            (project.cpu_charging if charging else project.cpu_idle).append(shares[proj.pid])
            (floor.cpu_charging if charging else floor.cpu_idle).append(shares[flo.pid])
            if charging:
                project.rss_mb.append(peak_rss_mb(proj.pid))
                floor.rss_mb.append(peak_rss_mb(flo.pid))
                for cp in (f"PROJ{kind}", f"FLOOR{kind}"):
                    n = sum(
                        1
                        for r in csms.received
                        if r.action == "MeterValues" and r.charge_point_id == cp
                    )
                    assert n >= phase_s * 0.9, f"{cp}: MeterValues did not flow every second"
        finally:
            for p in (proj, flo):
                p.send_signal(signal.SIGTERM)
            for p in (proj, flo):
                await p.wait()
    await csms.close()


class _Browser:
    """One client on the live feed, counting the samples it is sent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.events = 0
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            if line.startswith(b"data: "):
                self.events += 1

    async def close(self) -> int:
        self._task.cancel()
        self._writer.close()
        return self.events


async def _get(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    for _ in range(100):  # the dashboard starts once the boot is out
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.1)
    else:
        raise RuntimeError(f"the dashboard never listened on {port}")
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def _browser(port: int) -> _Browser:
    reader, writer = await _get(port, "/metrics")
    await reader.readuntil(b"\r\n\r\n")
    writer.close()
    return _Browser(*await _get(port, "/events"))


def _row(metric: str, proj: list[float], flo: list[float], unit: str, target: str) -> Row:
    p, f = statistics.median(proj), statistics.median(flo)
    scale = 100.0 if unit == "%" else 1.0
    fmt = "{:.2f} %" if unit == "%" else "{:.2f} " + unit
    ratio = f"{p / f:.1f}x" if f > 0 else "-"
    return (metric, fmt.format(p * scale), fmt.format(f * scale), ratio, target)


def run() -> list[Row]:
    phase_s = float(os.environ.get("CHARGECTL_BENCH_PHASE_S", "120"))
    runs = int(os.environ.get("CHARGECTL_BENCH_RUNS", "3"))
    project, floor = Sample(), Sample()
    for _ in range(runs):
        asyncio.run(_window(False, phase_s, project, floor))
        asyncio.run(_window(True, phase_s, project, floor))
    n = f"median of {runs}, {phase_s:.0f} s"
    return [
        _row(f"CPU idle, no car ({n})", project.cpu_idle, floor.cpu_idle, "%", "<= 0.1 %"),
        _row(
            f"CPU charging, 1 s MeterValues ({n})",
            project.cpu_charging,
            floor.cpu_charging,
            "%",
            "<= 0.7 %",
        ),
        _row("peak RSS, charging, dashboard on", project.rss_mb, floor.rss_mb, "MB", "<= 45 MB"),
        _row(
            "peak RSS, idle, dashboard + one client",
            project.rss_client_mb,
            floor.rss_mb,
            "MB",
            "<= 50 MB",
        ),
        _row(
            f"start -> BootNotification (median of {2 * runs})",
            project.boot_s,
            floor.boot_s,
            "s",
            "<= 0.5 s",
        ),
    ]
