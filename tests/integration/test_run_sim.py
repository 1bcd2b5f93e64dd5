"""`chargectl run` with the simulator against a CSMS over a real websocket: the seed's story.

The CSMS is the `ocpp` library's central-system side; the charger is the real service process.
What is asserted is what the CSMS hears back: the status, Current.Offered and Current.Import.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from ocpp.v16 import call

from controller.demo import PAUSE_PROFILE, RESUME_PROFILE
from controller.demo.csms import DemoCsms

CP = "CP-IT-1"


def _config(tmp_path, url):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            [ocpp]
            url = "{url}"
            charge_point_id = "{CP}"
            [state]
            dir = "{tmp_path / "state"}"
            [[connector]]
            id = 1
            driver = "sim"
            max_current_a = 32
            [simulator]
            plugged_in = true
            ev_max_current_a = 32
            ev_response_s = 0.5
            ev_sleep_after_pause_s = 0
            [pilot]
            min_pause_s = 5
            """
        )
    )
    return cfg


def _sampled(r, measurand):
    out = []
    for mv in r.payload.get("meter_value", []):
        for sv in mv["sampled_value"]:
            if sv.get("measurand") == measurand:
                out.append(float(sv["value"]))
    return out


async def _status(csms, status, since, timeout_s=30):
    return await csms.wait_for(
        "StatusNotification",
        lambda r: r.payload.get("connector_id") == 1 and r.payload["status"] == status,
        timeout_s=timeout_s,
        since=since,
    )


async def _story(tmp_path):
    csms = DemoCsms()
    url = await csms.start()
    cfg = _config(tmp_path, url)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller",
        "run",
        "--config",
        str(cfg),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await csms.wait_connected(CP, 10)
        resp = await csms.call(
            CP, call.ChangeConfiguration(key="MeterValueSampleInterval", value="1")
        )
        assert resp.status == "Accepted"

        mark = len(csms.received)
        await csms.call(CP, call.RemoteStartTransaction(id_tag="IT-TAG", connector_id=1))
        start = await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
        tx_id = start.payload["_assigned_transaction_id"]
        await _status(csms, "Charging", mark)

        # chargectl status talks to the running service.
        out = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "controller", "status", "--config", str(cfg), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        doc = json.loads(out.stdout)
        assert doc["connectors"][0]["transaction"]["transaction_id"] == tx_id

        mark = len(csms.received)
        resp = await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles={**PAUSE_PROFILE, "transactionId": tx_id}
            ),
        )
        assert resp.status == "Accepted"
        await _status(csms, "SuspendedEVSE", mark, 10)
        mv = await csms.wait_for(
            "MeterValues",
            lambda r: (
                _sampled(r, "Current.Offered") == [0.0]
                and max(_sampled(r, "Current.Import") or [1]) == 0.0
            ),
            timeout_s=15,
            since=mark,
        )
        assert mv.payload["transaction_id"] == tx_id

        await asyncio.sleep(5)
        mark = len(csms.received)
        resp = await csms.call(
            CP,
            call.SetChargingProfile(
                connector_id=1, cs_charging_profiles={**RESUME_PROFILE, "transactionId": tx_id}
            ),
        )
        assert resp.status == "Accepted"
        await _status(csms, "Charging", mark, 30)
        mv = await csms.wait_for(
            "MeterValues",
            lambda r: (
                _sampled(r, "Current.Offered") == [16.0]
                and all(15.0 <= a <= 16.5 for a in _sampled(r, "Current.Import"))
            ),
            timeout_s=20,
            since=mark,
        )
        assert mv.payload["transaction_id"] == tx_id
        comp = await csms.call(CP, call.GetCompositeSchedule(connector_id=1, duration=300))
        assert [float(p["limit"]) for p in comp.charging_schedule["charging_schedule_period"]] == [
            16.0
        ]

        # The transaction stayed open through pause and resume.
        assert not [r for r in csms.received if r.action == "StopTransaction"]
        mark = len(csms.received)
        await csms.call(CP, call.RemoteStopTransaction(transaction_id=tx_id))
        stop = await csms.wait_for("StopTransaction", timeout_s=20, since=mark)
        assert stop.payload["transaction_id"] == tx_id and stop.payload["reason"] == "Remote"
        assert len([r for r in csms.received if r.action == "StartTransaction"]) == 1
        assert len([r for r in csms.received if r.action == "BootNotification"]) == 1
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log = (await proc.stdout.read()).decode()
        await csms.close()
    return proc.returncode, log


@pytest.mark.slow
def test_run_pauses_and_resumes_the_simulated_car(tmp_path):
    rc, log = asyncio.run(asyncio.wait_for(_story(tmp_path), 150))
    assert rc == 0, log
    assert "Traceback" not in log, log
