"""The unit, sysusers file and installer, checked with systemd's own offline tools.

`systemd-analyze verify` exits 0 on misspelt keys and bad values, printing them: any output fails.
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from service_users import (
    SERVICE_GID,
    as_member,
    scratch_dir,
    start_service,
    state_dir,
    stop_service,
)

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
    text = (
        UNIT.read_text()
        .replace(INSTALL_PATH, _chargectl_exe())
        .replace("/opt/chargectl/boot-check", str(REPO / "systemd" / "chargectl-boot-check"))
    )
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
        "ExecStartPre=+/opt/chargectl/boot-check /var/lib/chargectl /opt/chargectl/venv",
        "ReadWritePaths=-/opt/chargectl/venvs",
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


# Kernel names of the character devices the service opens, as /proc/devices lists them:
# gpiolib registers "gpiochip", drivers/spi/spidev.c registers "spi" (not "spidev"), the
# USB serial core "ttyUSB", cdc-acm "ttyACM", the PL011 UART "ttyAMA", the 8250 UART "ttyS".
KERNEL_CLASSES = {"gpiochip", "spi", "ttyUSB", "ttyACM", "ttyAMA", "ttyS"}


def _device_allow() -> dict[str, str]:
    out = {}
    for line in UNIT.read_text().splitlines():
        if line.startswith("DeviceAllow="):
            spec, access = line.removeprefix("DeviceAllow=").split()
            assert spec.startswith("char-"), line
            out[spec.removeprefix("char-")] = access
    return out


def test_device_allow_names_the_kernels_device_classes():
    allowed = _device_allow()
    assert set(allowed) == KERNEL_CLASSES
    assert all(access == "rw" for access in allowed.values())
    # Where this machine's kernel registered a class, its name is spelt the same way.
    proc = Path("/proc/devices")
    if proc.exists():
        names = {line.split()[1] for line in proc.read_text().splitlines() if line[:1] == " "}
        present = {n for n in names if n in KERNEL_CLASSES or n in ("spidev", "gpio")}
        assert "spidev" not in present
        assert present <= KERNEL_CLASSES


@needs_systemd
def test_verify_flags_no_device_class_in_the_unit(tmp_path):
    unit = _unit_with_real_paths(tmp_path)
    out = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )
    assert "DeviceAllow" not in out.stdout + out.stderr


def _install(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ROOT=str(root), PYTHON=sys.executable, CHARGECTL_ENV_FILE=os.devnull)
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        ["sh", str(REPO / "systemd" / "install.sh")], env=env, capture_output=True, text=True
    )


def _locked_versions() -> dict[str, str]:
    out = {}
    for line in (REPO / "systemd" / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith(" "):
            name, _, rest = line.partition("==")
            if ";" in rest and "platform_machine" in rest:
                continue  # lgpio: only on a Pi
            out[name.strip().lower()] = rest.split()[0]
    return out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers missing")
def test_installer_is_idempotent_locked_and_does_not_start_the_simulator(tmp_path):
    with scratch_dir() if os.geteuid() == 0 else contextlib.nullcontext(tmp_path) as base:
        _installer_story(base / "root")


def _readme_install_steps() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Installing on a Raspberry Pi", 1)[1]
    block = section.split("```", 2)[1]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def _readme_story(root: Path) -> None:
    """The README's install steps, from the installer to `chargectl status` as a group member."""
    assert _readme_install_steps() == [
        "sudo systemd/install.sh",
        "sudoedit /etc/chargectl/config.toml",
        "sudo chargectl check-config && sudo chargectl check-hw",
        "sudo systemctl start chargectl",
        "newgrp evse",
        "chargectl status",
    ]
    config = root / "etc" / "chargectl" / "config.toml"
    exe = root / os.readlink(root / "usr" / "local" / "bin" / "chargectl").lstrip("/")
    py = str(exe.parent / "python")
    # sudoedit: the example, with the state dir in the scratch root (no hardware here: sim).
    state = state_dir(root)
    config.write_text(
        config.read_text()
        .replace('dir = "/var/lib/chargectl"', f'dir = "{state}"')
        .replace("ws://127.0.0.1:9000/ocpp", "ws://127.0.0.1:9/ocpp")
    )
    os.chown(config, 0, SERVICE_GID)  # install.sh: chgrp evse
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGECTL_")}
    env.update(CHARGECTL_ENV_FILE=os.devnull, HOME="/")
    for cmd in ("check-config", "check-hw"):
        out = subprocess.run(
            [str(exe), cmd, "--config", str(config)], env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stdout + out.stderr
    service = start_service(["run", "--config", str(config)], env, state / "control.sock", py)
    try:
        # The person is in group evse only, and runs the command found on the PATH.
        out = subprocess.run(
            [*as_member(py), "status", "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "connector 1:" in out.stdout
    finally:
        stop_service(service)


def _installer_story(root: Path) -> None:
    # An installation from before versioned venvs: a plain directory where the link goes.
    old_layout = root / "opt" / "chargectl" / "venv"
    old_layout.mkdir(parents=True)
    (old_layout / "from-before").write_text("")
    first = _install(root)
    assert first.returncode == 0, first.stdout + first.stderr
    config = root / "etc" / "chargectl" / "config.toml"
    assert config.read_text() == (REPO / "systemd" / "config.example.toml").read_text()
    assert "not starting" in first.stdout and 'driver = "sim"' in first.stdout
    assert "sudo chargectl check-config && sudo chargectl check-hw" in first.stdout
    assert "would start: no" in first.stdout

    # chargectl on the PATH, pointing into the venv.
    link = root / "usr" / "local" / "bin" / "chargectl"
    assert os.readlink(link) == "/opt/chargectl/venv/bin/chargectl"
    exe = root / os.readlink(link).lstrip("/")
    assert exe.exists()
    # The venv is a link to the versioned venv of this release, beside the boot check.
    release = _version()
    venv_link = root / "opt" / "chargectl" / "venv"
    assert venv_link.is_symlink()
    assert os.readlink(venv_link) == f"venvs/chargectl-{release}"
    assert not (venv_link / "from-before").exists()
    assert os.access(root / "opt" / "chargectl" / "boot-check", os.X_OK)
    if os.geteuid() == 0:
        _readme_story(root)
        (root / "etc" / "chargectl" / "config.toml").write_text(
            (REPO / "systemd" / "config.example.toml").read_text()
        )

    # The venv holds exactly the locked versions.
    py = root / "opt" / "chargectl" / "venv" / "bin" / "python"
    frozen = subprocess.run(
        [str(py), "-m", "pip", "list", "--format=json"], capture_output=True, text=True
    )
    installed = {
        re.sub(r"[-_.]+", "-", d["name"]).lower(): d["version"] for d in json.loads(frozen.stdout)
    }
    for name, version in _locked_versions().items():
        assert installed.get(name) == version, (name, installed.get(name), version)

    config.write_text('[ocpp]\ncharge_point_id = "MINE"\n')
    # A firmware update had switched to another release: the installer upgrades in place
    # and points the link back at the release it installs.
    other = root / "opt" / "chargectl" / "venvs" / "chargectl-9.9.9"
    shutil.copytree(venv_link.resolve(), other, symlinks=True)
    os.replace(_symlink(venv_link.parent, "venvs/chargectl-9.9.9"), venv_link)
    second = _install(root)
    assert second.returncode == 0, second.stdout + second.stderr
    assert os.readlink(venv_link) == f"venvs/chargectl-{release}"
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

    # A broken file is reported, not started; a real driver would be started.
    config.write_text("[[connector]]\nid = 1\ndriver = 'pwm'\n")
    broken = _install(root)
    assert broken.returncode == 0 and "is not valid" in broken.stdout
    assert "connector[0].driver = 'pwm'" in broken.stdout and "would start: no" in broken.stdout
    config.write_text(
        "[[connector]]\nid = 1\ndriver = 'modbus'\n[connector.modbus]\nhost = '192.0.2.1'\n"
    )
    real = _install(root)
    assert real.returncode == 0 and "would start: yes" in real.stdout, real.stdout


def _version() -> str:
    text = (REPO / "controller" / "__init__.py").read_text()
    return re.search(r'__version__ = "(.*)"', text).group(1)


def _symlink(directory: Path, target: str) -> Path:
    tmp = directory / "venv.test-link"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    return tmp
