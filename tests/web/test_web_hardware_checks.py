"""The last check-hw results reach a running service's status document: over the control
socket (`chargectl status --json`) and the dashboard's /api/status, re-read when check-hw
runs again, and a damaged file is a message, not a crash."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.web.webrig import Browser, running


async def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """In a thread: the service under test runs on this event loop."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "controller", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "CHARGECTL_ENV_FILE": os.devnull, **(env or {})},
    )


def _config(tmp_path: Path) -> Path:
    """check-hw's view of a unit whose PWM overlay is missing, sharing the service's state."""
    cfg = tmp_path / "check.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [state]
        dir = "{tmp_path / "state"}"
        [[connector]]
        id = 1
        driver = "sysfs_pwm"
        """)
    )
    return cfg


async def test_the_running_service_reports_the_last_check_hw_results(tmp_path):
    async with running(tmp_path) as (_csms, charger):
        cfg = _config(tmp_path)
        api = Browser(charger.web.url)
        out = await _cli("status", "--json", "--config", str(cfg))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["hardware_checks"] is None  # never run: says so

        (tmp_path / "sys" / "class" / "pwm").mkdir(parents=True)
        checked = await _cli("check-hw", "--config", str(cfg), env={
            "CHARGECTL_SYSFS_ROOT": str(tmp_path / "sys")
        })  # fmt: skip
        assert checked.returncode == 1 and "results not kept" not in checked.stderr

        out = await _cli("status", "--json", "--config", str(cfg))
        checks = json.loads(out.stdout)["hardware_checks"]
        saved = json.loads((tmp_path / "state" / "check-hw.json").read_text())
        assert checks["taken_at"] == saved["taken_at"] and checks["ok"] is False
        pwm = next(r for r in checks["rows"] if r["device"] == "connector 1: pilot PWM (sysfs)")
        assert pwm["ok"] is False and "dtoverlay=pwm,pin=18,func=2" in pwm["fix"]
        assert pwm["fix"] in checked.stdout  # the same fix check-hw printed
        # The dashboard samples the status once a second: it may be one sample behind.
        for _ in range(50):
            web = (await api.get("/api/status")).json()["hardware_checks"]
            if web is not None:
                break
            await asyncio.sleep(0.1)
        assert web == checks

        (tmp_path / "state" / "check-hw.json").write_text("{ half a fil")
        out = await _cli("status", "--json", "--config", str(cfg))
        assert out.returncode == 0, out.stderr
        broken = json.loads(out.stdout)["hardware_checks"]
        assert "is not a check-hw result" in broken["error"]
        assert charger.status_document()["connectors"][0]["id"] == 1  # still serving
