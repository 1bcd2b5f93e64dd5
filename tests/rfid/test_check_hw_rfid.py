"""`chargectl check-hw` gives every configured reader its row: the real command, a PN532
emulator on a socat PTY, a keyboard-wedge device that is not there, and an RC522 that does not
answer on gpiozero's mock SPI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from hw.emulators.pn532 import Pn532Emulator


@pytest.fixture
def pty_pair(tmp_path):
    if shutil.which("socat") is None:
        pytest.skip("socat not installed")
    host, chip = tmp_path / "ttyPN532", tmp_path / "ttyChip"
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={host}", f"pty,raw,echo=0,link={chip}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(250):
        if host.exists() and chip.exists():
            break
        time.sleep(0.02)
    yield str(host), str(chip)
    proc.kill()
    proc.wait()


def test_one_row_per_reader_with_the_fix(tmp_path, pty_pair):
    host, chip = pty_pair
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [state]
        dir = "{tmp_path / "state"}"
        [[connector]]
        id = 1
        driver = "sim"
        [connector.rfid]
        type = "pn532"
        port = "{host}"
        [[connector]]
        id = 2
        driver = "sim"
        [connector.rfid]
        type = "rc522"
        [rfid]
        type = "hid"
        path = "{tmp_path / "event42"}"
        """)
    )
    env = {**os.environ, "CHARGECTL_ENV_FILE": os.devnull, "GPIOZERO_PIN_FACTORY": "mock"}
    with Pn532Emulator(chip):
        out = subprocess.run(
            [sys.executable, "-m", "controller", "check-hw", "--config", str(cfg)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    lines = out.stdout.splitlines()
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    (pn532,) = [ln for ln in lines if "connector 1: RFID PN532" in ln]
    assert pn532.startswith("OK") and "firmware PN532 1.6" in pn532
    (rc522,) = [ln for ln in lines if "connector 2: RFID RC522 (SPI 0.0)" in ln]
    assert rc522.startswith("FAIL") and "version register reads 0x00" in rc522
    (hid,) = [ln for ln in lines if "station: RFID keyboard wedge" in ln]
    assert hid.startswith("FAIL")
    fix = lines[lines.index(hid) + 1]
    assert "fix:" in fix and "/dev/input/by-id/" in fix
