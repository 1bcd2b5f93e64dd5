"""`chargectl check-hw` through the real drivers: emulated Modbus devices answer, missing ones
fail with a fix, and nothing crashes."""

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from hw.emulators.evse_wb import EvseWbEmulator
from hw.emulators.sdm630 import Sdm630Emulator
from hw.emulators.server import EmulatorServer


def _run(cfg, **env):
    return subprocess.run(
        [sys.executable, "-m", "controller", "check-hw", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CHARGECTL_ENV_FILE": os.devnull, **env},
    )


def _saved(state_dir):
    doc = json.loads((state_dir / "check-hw.json").read_text())
    return doc, {r["device"]: r for r in doc["rows"]}


def _recent(text):
    taken = datetime.fromisoformat(text)
    assert taken.tzinfo is not None
    assert abs(datetime.now(UTC) - taken) < timedelta(minutes=5)


def test_emulated_board_and_meter_pass(tmp_path):
    state = tmp_path / "state"
    state.mkdir()

    async def go():
        server = EmulatorServer(
            [EvseWbEmulator(device_id=1, firmware=18), Sdm630Emulator(device_id=2)]
        )
        port = await server.start_tcp()
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            textwrap.dedent(f"""
            [state]
            dir = "{state}"
            [[connector]]
            id = 1
            driver = "modbus"
            [connector.modbus]
            board = "openwb_satellit"
            host = "127.0.0.1"
            tcp_port = {port}
            [connector.meter]
            type = "sdm630"
            host = "127.0.0.1"
            tcp_port = {port}
            device_id = 2
            """)
        )
        try:
            return await asyncio.to_thread(_run, cfg)
        finally:
            await server.stop()

    out = asyncio.run(go())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "firmware 18, current in 0.01 A steps" in out.stdout
    assert "1234.5 kWh" in out.stdout
    # The same rows are kept for the dashboard, with the time they were taken.
    doc, rows = _saved(state)
    assert doc["ok"] is True
    _recent(doc["taken_at"])
    board = next(r for name, r in rows.items() if "EVSE board" in name)
    assert board["ok"] and "firmware 18" in board["detail"]
    meter = next(r for name, r in rows.items() if "meter" in name)
    assert meter["ok"] and "1234.5 kWh" in meter["detail"] and meter["fix"] is None
    assert all(r["taken_at"] == doc["taken_at"] for r in rows.values())
    assert out.stderr.count("not kept") == 0


def test_missing_devices_fail_with_a_fix(tmp_path):
    cfg = tmp_path / "c.toml"
    state = tmp_path / "state"
    state.mkdir()
    (state / "check-hw.json").write_text('{"old": "results"}')
    cfg.write_text(
        textwrap.dedent(f"""
        [state]
        dir = "{state}"
        [[connector]]
        id = 1
        driver = "modbus"
        [connector.modbus]
        port = "{tmp_path}/ttyUSB9"
        [[connector]]
        id = 2
        driver = "sysfs_pwm"
        """)
    )
    (tmp_path / "sys" / "class" / "pwm").mkdir(parents=True)  # a sysfs tree without PWM
    out = _run(cfg, CHARGECTL_SYSFS_ROOT=str(tmp_path / "sys"))
    assert out.returncode == 1
    assert "FAIL" in out.stdout and "ttyUSB9 does not exist" in out.stdout
    assert "dtoverlay=pwm,pin=18,func=2" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    # The failing rows are kept with their fixes; the old file was replaced whole.
    doc, rows = _saved(state)
    assert doc["ok"] is False and "old" not in doc
    pwm = rows["connector 2: pilot PWM (sysfs)"]
    assert pwm["ok"] is False and "dtoverlay=pwm,pin=18,func=2" in pwm["fix"]
    usb = next(r for name, r in rows.items() if "ttyUSB9" in name)
    assert usb["ok"] is False and usb["fix"]
    assert sorted(p.name for p in state.iterdir()) == ["check-hw.json"]  # no temp file left
    assert (state / "check-hw.json").stat().st_mode & 0o777 == 0o644  # the service may read it


def test_a_state_dir_that_cannot_take_the_results_is_one_line_not_a_failure(tmp_path):
    not_a_dir = tmp_path / "state"
    not_a_dir.write_text("a file where the state directory should be")
    for state in (tmp_path / "missing", not_a_dir):
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[state]\ndir = "{state}"\n[[connector]]\nid = 1\ndriver = "sim"\n')
        out = _run(cfg)
        assert out.returncode == 0, out.stdout + out.stderr  # the simulator's rows pass
        assert "OK" in out.stdout
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "results not kept for the dashboard" in lines[0]
        assert str(state) in lines[0] and "Traceback" not in out.stderr
