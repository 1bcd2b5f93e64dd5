"""`chargectl tag` against a running `chargectl run` (sim driver) and a CSMS on a real websocket:
the tag reaches the OCPP side's `present_id_tag`, which authorises and starts, and the same tag
stops. `status` keeps working on the same socket; a stopped service is a clear error."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap

import pytest

from controller.demo.csms import DemoCsms

CP = "CP-RFID-1"


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
            [connector.rfid]
            type = "sim"
            [simulator]
            plugged_in = true
            ev_response_s = 0.3
            [web]
            enabled = false
            """
        )
    )
    return cfg


def _cli(cfg, *args):
    return subprocess.run(
        [sys.executable, "-m", "controller", *args, "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.slow
async def test_tag_over_the_control_socket_starts_and_stops_a_session(tmp_path):
    csms = DemoCsms()
    url = await csms.start()
    cfg = _config(tmp_path, url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller",
        "run",
        "--config",
        str(cfg),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    log = b""

    async def drain():
        nonlocal log
        while chunk := await proc.stderr.read(4096):
            log += chunk

    reader = asyncio.create_task(drain())
    try:
        await csms.wait_for("BootNotification", timeout_s=30)
        await csms.wait_connected(CP, 10)
        await csms.wait_for(
            "StatusNotification", lambda r: r.payload["status"] == "Preparing", timeout_s=20
        )
        mark = len(csms.received)
        out = await asyncio.to_thread(_cli, cfg, "tag", "1c78f2bf")
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "tag 1C78F2BF at connector 1: accepted"
        auth = await csms.wait_for("Authorize", timeout_s=10, since=mark)
        assert auth.payload["id_tag"] == "1C78F2BF"
        start = await csms.wait_for("StartTransaction", timeout_s=20, since=mark)
        assert start.payload["id_tag"] == "1C78F2BF"
        assert start.payload["connector_id"] == 1

        # the status request still works on the same socket, and shows the session
        out = await asyncio.to_thread(_cli, cfg, "status", "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["connectors"][0]["transaction"]["id_tag"] == "1C78F2BF"

        # bad input: a clear error, nothing presented, the service carries on
        out = await asyncio.to_thread(_cli, cfg, "tag", "1C78F2BF", "--connector", "5")
        assert out.returncode == 2 and "no connector 5" in out.stderr
        assert "Traceback" not in out.stderr
        out = await asyncio.to_thread(_cli, cfg, "tag", "x" * 21)
        assert out.returncode == 2 and "1 to 20 characters" in out.stderr

        mark = len(csms.received)
        out = await asyncio.to_thread(_cli, cfg, "tag", "1C78F2BF", "--connector", "1")
        assert out.returncode == 0, out.stderr
        stop = await csms.wait_for("StopTransaction", timeout_s=20, since=mark)
        assert stop.payload["reason"] == "Local"
        assert stop.payload["transaction_id"] == start.payload["_assigned_transaction_id"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)
        await reader
        await csms.close()
    text = log.decode(errors="replace")
    assert "tag 1C78F2BF presented at connector 1 (console)" in text
    assert "RFID reader (connector 1) ready" in text
    assert proc.returncode == 0, text[-3000:]

    out = await asyncio.to_thread(_cli, cfg, "tag", "1C78F2BF")
    assert out.returncode == 3
    assert "chargectl is not running" in out.stderr and "not presented" in out.stderr
    assert "Traceback" not in out.stderr
