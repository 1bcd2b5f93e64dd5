"""A slow SD card (every fsync and fdatasync takes 200 ms, through an LD_PRELOAD shim): the
event loop that runs the pilot keeps ticking, nothing reaches the CSMS before it is on disk,
and a `kill -9` right after an Accepted loses nothing."""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ocpp.v16 import call

from bench import slow_fsync
from controller.demo.csms import DemoCsms
from hw.emulators.server import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_proc import CAP_10A, CP, Service, write_config

ROOT = Path(__file__).resolve().parents[2]
# One fsync of the simulated card; the old design held the loop for two or three per commit.
STALL_BOUND_S = 0.15


@pytest.fixture(scope="module")
def slow_env(tmp_path_factory):
    lib = slow_fsync.build(tmp_path_factory.mktemp("shim"))
    if lib is None:
        pytest.skip("no C compiler to build the slow-fsync shim")
    return {**os.environ, "LD_PRELOAD": str(lib), "SLOW_FSYNC_MS": "200"}


def test_the_shim_makes_fsync_slow(slow_env, tmp_path):
    target = str(tmp_path / "f")
    code = (
        f"import os, time; fd = os.open({target!r}, os.O_CREAT | os.O_WRONLY);"
        "t = time.monotonic(); os.fsync(fd); print(time.monotonic() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=slow_env, capture_output=True, text=True, check=True
    )
    assert float(out.stdout) >= 0.19


def test_the_event_loop_keeps_ticking_while_the_disk_is_slow(slow_env):
    out = subprocess.run(
        [sys.executable, "-m", "bench.tick_probe", "5"],
        env=slow_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    charging_s, profile_s = (float(x) for x in out.stdout.split()[-2:])
    assert charging_s < STALL_BOUND_S  # MeterValues queued and acknowledged every second
    assert profile_s < STALL_BOUND_S  # a SetChargingProfile stored


def test_nothing_reaches_the_csms_before_it_is_on_disk(slow_env):
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("slow_disk_probe.py"))],
        env={**slow_env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["answer"] == "Accepted"
    assert result["profile_on_disk_at_accepted"] == 1
    assert result["installed"] == [42]
    assert result["start_transaction_rows_at_receipt"] == [1]
    assert len(result["meter_values_rows_at_receipt"]) == 3
    assert all(n >= 1 for n in result["meter_values_rows_at_receipt"])


def test_kill9_right_after_accepted_loses_nothing(slow_env, tmp_path, monkeypatch):
    for key in ("LD_PRELOAD", "SLOW_FSYNC_MS"):
        monkeypatch.setenv(key, slow_env[key])

    async def go():
        port = free_port()
        csms = DemoCsms()
        await csms.start(port=port)
        service = await Service(write_config(tmp_path, port)).start()
        try:
            await csms.wait_for(
                "StatusNotification", lambda r: r.payload["status"] == "Charging", 60
            )
            answer = await csms.call(
                CP, call.SetChargingProfile(connector_id=0, cs_charging_profiles=CAP_10A)
            )
            await service.kill9()
            return answer.status, service.log
        finally:
            await service.stop()
            await csms.close()

    status, log = asyncio.run(asyncio.wait_for(go(), 120))
    assert status == "Accepted", log[-2000:]
    state = tmp_path / "state"
    profiles = sqlite3.connect(state / "profiles.sqlite")
    ids = [r[0] for r in profiles.execute("SELECT profile_id FROM profiles")]
    ocpp = sqlite3.connect(state / "ocpp.sqlite")
    open_tx = ocpp.execute("SELECT COUNT(*) FROM transactions WHERE open = 1").fetchone()[0]
    assert ids == [CAP_10A["chargingProfileId"]]
    assert open_tx == 1  # the transaction the CSMS was told about
