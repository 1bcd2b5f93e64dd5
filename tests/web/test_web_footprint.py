"""What the dashboard costs the service: peak memory and steady CPU, with one live client.

The same `chargectl run` twice, dashboard off and on (one client reading the event stream and
a Prometheus scrape), each for a steady window; numbers from /proc. Bounds are generous
safety limits, the measured values are printed for the record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hw.emulators.server import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc"),
]
STEADY_S = 8.0


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _open_when_up(url: str, proc: subprocess.Popen[bytes]):
    """The event stream, once the page is up: with no CSMS to boot with, the dashboard starts
    a few seconds after the service (`controller.dashboard_start.WAIT_FOR_BOOT_S`)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5)
        except urllib.error.URLError:
            assert proc.poll() is None, "the service exited"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _measure(tmp_path: Path, web: bool) -> tuple[float, float]:
    port = free_port()
    cfg = tmp_path / f"web-{web}.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            [ocpp]
            url = "ws://127.0.0.1:{free_port()}/ocpp"
            [state]
            dir = "{tmp_path / f"state-{web}"}"
            [[connector]]
            id = 1
            driver = "sim"
            [web]
            enabled = {"true" if web else "false"}
            listen = "127.0.0.1:{port}"
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "run", "--config", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stream = None
    try:
        time.sleep(3.0)  # imports and start-up done
        if web:
            stream = _open_when_up(f"http://127.0.0.1:{port}/events", proc)
            stream.readline()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
        cpu0, t0 = _cpu_s(proc.pid), time.monotonic()
        events = 0
        while time.monotonic() - t0 < STEADY_S:
            if stream is not None:
                if stream.readline().startswith(b"data: "):
                    events += 1
            else:
                time.sleep(0.2)
        cpu = (_cpu_s(proc.pid) - cpu0) / (time.monotonic() - t0)
        if web:
            assert events >= STEADY_S - 2, events  # the client really was live
        return cpu, _peak_rss_mb(proc.pid)
    finally:
        if stream is not None:
            stream.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_dashboard_footprint(tmp_path):
    cpu_off, rss_off = _measure(tmp_path, web=False)
    cpu_on, rss_on = _measure(tmp_path, web=True)
    print(
        f"dashboard off: {cpu_off * 100:.1f} % CPU, peak RSS {rss_off:.1f} MB; "
        f"on with one live client: {cpu_on * 100:.1f} % CPU, peak RSS {rss_on:.1f} MB"
    )
    # Measured ~7 MB: starlette, uvicorn (with click) and prometheus_client, plus the
    # two-hour history; the bound catches a leak or a library swap, not noise.
    assert rss_on - rss_off < 10.0
    assert cpu_on < 0.10  # of one core, on a shared 2-core build machine
