"""The unit, sysusers file and installer, checked with systemd's own offline tools.

`systemd-analyze verify` exits 0 on misspelt keys and bad values, printing them: any output fails.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "chargectl.service"
INSTALL_PATH = "/opt/chargectl/venv/bin/chargectl"

needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


def _chargectl_exe() -> str:
    exe = Path(sys.executable).parent / "chargectl"
    assert exe.exists(), "the chargectl entry point must be installed in the test environment"
    return str(exe)


def _unit_with_real_paths(tmp_path: Path) -> Path:
    text = UNIT.read_text().replace(INSTALL_PATH, _chargectl_exe())
    unit = tmp_path / "chargectl.service"
    unit.write_text(text)
    return unit


@needs_systemd
def test_unit_verifies_without_any_diagnostic(tmp_path):
    unit = _unit_with_real_paths(tmp_path)
    out = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )
    diagnostics = (out.stdout + out.stderr).strip()
    assert out.returncode == 0 and diagnostics == "", diagnostics


@needs_systemd
def test_verify_would_catch_a_misspelt_key(tmp_path):
    # Guards the guard: the check above must fail on the kind of mistake verify only prints.
    unit = _unit_with_real_paths(tmp_path)
    unit.write_text(unit.read_text().replace("WatchdogSec=", "WatchDogSec="))
    out = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )
    assert "WatchDogSec" in out.stdout + out.stderr


@needs_systemd
def test_hardening_exposure_stays_low(tmp_path):
    unit = _unit_with_real_paths(tmp_path)
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=25", str(unit)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr


def test_unit_keeps_the_safety_settings():
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "RestartPreventExitStatus=78",
        "ExecStopPost=+/opt/chargectl/venv/bin/chargectl failsafe",
        "StateDirectory=chargectl",
        "PrivateDevices=no",
        "ProtectKernelTunables=no",
    ):
        assert line in text, line
    assert "WatchdogSec=" in text


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers missing")
def test_sysusers_creates_the_user_and_its_groups(tmp_path):
    (tmp_path / "etc").mkdir()
    subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(REPO / "systemd" / "chargectl.sysusers")],
        check=True,
        capture_output=True,
    )
    passwd = (tmp_path / "etc" / "passwd").read_text()
    group = (tmp_path / "etc" / "group").read_text()
    assert passwd.startswith("evse:") or "\nevse:" in passwd
    for g in ("gpio", "dialout", "spi"):
        line = next(x for x in group.splitlines() if x.startswith(g + ":"))
        assert "evse" in line.split(":")[3].split(",")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers missing")
def test_installer_is_idempotent_and_keeps_the_config(tmp_path):
    root = tmp_path / "root"
    env = dict(os.environ, ROOT=str(root), PYTHON=sys.executable)
    env.pop("VIRTUAL_ENV", None)
    first = subprocess.run(
        ["sh", str(REPO / "systemd" / "install.sh")], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stdout + first.stderr
    config = root / "etc" / "chargectl" / "config.toml"
    assert config.read_text() == (REPO / "systemd" / "config.example.toml").read_text()
    config.write_text('[ocpp]\ncharge_point_id = "MINE"\n')
    exe = root / "opt" / "chargectl" / "venv" / "bin" / "chargectl"
    second = subprocess.run(
        ["sh", str(REPO / "systemd" / "install.sh")], env=env, capture_output=True, text=True
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "keeping the existing" in second.stdout
    assert config.read_text() == '[ocpp]\ncharge_point_id = "MINE"\n'
    out = subprocess.run(
        [str(exe), "check-config", "--config", str(config)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert '"charge_point_id": "MINE"' in out.stdout
    assert (
        root / "etc" / "systemd" / "system" / "chargectl.service"
    ).read_text() == UNIT.read_text()
